"""Generated test images: each one small, real and decodable unless it is meant not to be."""

from __future__ import annotations

import io

from PIL import Image


def encode(image: Image.Image, format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


def gradient(size: tuple[int, int] = (320, 240), mode: str = "RGB") -> Image.Image:
    """A deterministic non-uniform image (different bytes for different sizes)."""
    width, height = size
    image = Image.new("RGB", size)
    image.putdata([((x * 255) // width, (y * 255) // height, 128) for y in range(height) for x in range(width)])
    return image.convert(mode)


def jpeg(size: tuple[int, int] = (320, 240), **params) -> bytes:
    return encode(gradient(size), "JPEG", quality=90, **params)


def png(size: tuple[int, int] = (320, 240), mode: str = "RGB") -> bytes:
    return encode(gradient(size, mode), "PNG")
