"""Decoding images for models: the allowed formats, reduced-scale JPEG decoding, EXIF orientation, RGB.

Pure Pillow; shared by ingest (curation), the inference engine (classifier) and the training data loaders, so that
a painting reaches every model through exactly the same decode path.
"""

from __future__ import annotations

from typing import IO

from PIL import Image, ImageOps

ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP")


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any decoded mode to 8-bit RGB; transparent areas are composited onto white."""
    if image.mode == "RGB":
        return image
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16/32-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def open_rgb(source: str | IO[bytes], *, min_side: int | None = None) -> Image.Image:
    """Decode an allowed image to an upright RGB image.

    With ``min_side``, JPEGs are decoded at the smallest DCT scale (1/2, 1/4, 1/8) whose both sides stay at or
    above ``min_side``: several times faster for large paintings, and lossless for a model that resizes the
    shorter side to ``min_side`` or less anyway.
    """
    image = Image.open(source, formats=ALLOWED_FORMATS)
    if min_side and image.format == "JPEG":
        image.draft("RGB", (min_side, min_side))
    image = ImageOps.exif_transpose(image)
    return to_rgb(image)
