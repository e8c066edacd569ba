"""The one ingest path for every entry point (web upload, API, bulk import, management command).

Implements SPEC.md's ingest rules: the format is decided by decoding the bytes (JPEG, PNG, WebP only), 10 MB
per file, 150–8192 px per side, decompression bombs refused, EXIF orientation applied, random storage names,
the same bytes stored once (sha256), and re-encoded JPEG derivatives for the pages. A rejected file leaves no
row and no file behind.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from config.metrics import count_ingest
from curation.models import Artwork, Style
from mltrain.imaging import ALLOWED_FORMATS, to_rgb

logger = logging.getLogger(__name__)

_EXIF_ORIENTATION = 0x0112
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class IngestError(Exception):
    """A file was refused. ``code`` is stable for programs; ``message`` is written for curators."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IngestResult:
    artwork: Artwork
    created: bool


@dataclass(frozen=True)
class _Decoded:
    format: str
    width: int
    height: int
    display_jpeg: bytes
    thumbnail_jpeg: bytes


def _limits() -> dict:
    return settings.ATELIER


def _read_limited(file: IO[bytes] | bytes) -> bytes:
    max_bytes = _limits()["INGEST_MAX_BYTES"]
    if isinstance(file, (bytes, bytearray)):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(max_bytes + 1)
    if not data:
        raise IngestError("empty", "The file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise IngestError(
            "too_large", f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit for one image."
        )
    return data


def _encode_jpeg(image: Image.Image, max_side: int, quality: int) -> bytes:
    derivative = image.copy()
    derivative.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    derivative.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class ValidatedImage:
    """A file that passed every ingest rule, decoded to upright RGB; nothing stored."""

    data: bytes
    sha256: str
    format: str
    width: int
    height: int
    image: Image.Image


def image_validate(*, file: IO[bytes] | bytes, decode_side: int | None = None) -> ValidatedImage:
    """Apply the ingest rules to ``file`` without storing anything (``/predict`` uses this).

    ``decode_side`` lets JPEGs decode at reduced scale down to that size (e.g. the model's resize).
    Raises ``IngestError`` exactly as ``artwork_ingest`` would.
    """
    data = _read_limited(file)
    image_format, width, height, rgb = _validated_rgb(data, decode_side or _limits()["DISPLAY_MAX_SIDE"])
    return ValidatedImage(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        format=image_format,
        width=width,
        height=height,
        image=rgb,
    )


def _decode(data: bytes) -> _Decoded:
    limits = _limits()
    image_format, width, height, rgb = _validated_rgb(data, limits["DISPLAY_MAX_SIDE"])
    return _Decoded(
        format=image_format,
        width=width,
        height=height,
        display_jpeg=_encode_jpeg(rgb, limits["DISPLAY_MAX_SIDE"], quality=88),
        thumbnail_jpeg=_encode_jpeg(rgb, limits["THUMBNAIL_SIDE"], quality=82),
    )


def _validated_rgb(data: bytes, draft_side: int) -> tuple[str, int, int, Image.Image]:
    limits = _limits()
    min_side, max_side = limits["INGEST_MIN_SIDE"], limits["INGEST_MAX_SIDE"]
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; a bomb is always an error here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise IngestError(
                "decompression_bomb", "The image declares more pixels than can be decoded safely."
            ) from exc
        except UnidentifiedImageError as exc:
            raise IngestError(
                "unsupported_format", "This is not a JPEG, PNG or WebP image (the file's content was checked)."
            ) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # A recognised format whose header is damaged (found by fuzzing: a truncated JPEG APP segment).
            raise IngestError("corrupt", f"The image could not be decoded: its header is damaged ({exc}).") from exc
        image_format = image.format
        width, height = image.size
        try:
            orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
        except (OSError, SyntaxError, ValueError, EOFError):
            # PNG keeps EXIF after the pixels; a file without them fails here. The size checks still apply,
            # and the decode below reports the damage.
            orientation = 1
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        if width < min_side or height < min_side:
            raise IngestError(
                "too_small",
                f"The image is {width}×{height} px; each side must be at least {min_side} px.",
            )
        if width > max_side or height > max_side:
            raise IngestError(
                "too_big_dimensions",
                f"The image is {width}×{height} px; each side must be at most {max_side} px.",
            )
        if image_format == "JPEG":
            # Decode at the smallest DCT scale that still covers the needed size: the whole stream is still
            # read (truncation is still detected), several times faster for large paintings.
            image.draft("RGB", (draft_side, draft_side))
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = to_rgb(upright)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise IngestError(
                "decompression_bomb", "The image declares more pixels than can be decoded safely."
            ) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise IngestError(
                "corrupt", f"The image could not be decoded: it is damaged or truncated ({exc})."
            ) from exc
    return image_format, width, height, rgb


def _save_files(data: bytes, decoded: _Decoded) -> tuple[str, str, str]:
    token = secrets.token_hex(16)
    original = default_storage.save(f"originals/{token}.{_EXTENSIONS[decoded.format]}", ContentFile(data))
    display = default_storage.save(f"display/{token}.jpg", ContentFile(decoded.display_jpeg))
    thumbnail = default_storage.save(f"thumbnails/{token}.jpg", ContentFile(decoded.thumbnail_jpeg))
    return original, display, thumbnail


def _delete_files(*names: str) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


@count_ingest
def artwork_ingest(
    *,
    file: IO[bytes] | bytes,
    uploaded_by: AbstractBaseUser | None = None,
    filename: str = "",
    title: str = "",
    artist: str = "",
    year: int | None = None,
    source: str = "",
    dataset_style: Style | None = None,
    request_classification: bool = True,
) -> IngestResult:
    """Validate, store and record one image. Same bytes twice → the existing artwork, nothing created.

    ``dataset_style`` records a label that came with the data (e.g. a WikiArt folder) as the verified style.
    With ``request_classification`` the artwork is queued for inference once the transaction commits; bulk
    importers pass False and queue whole chunks themselves.
    Raises ``IngestError`` for a refused file; nothing is stored then.
    """
    data = _read_limited(file)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = Artwork.objects.filter(sha256=sha256).first()
    if existing is not None:
        return IngestResult(artwork=existing, created=False)

    decoded = _decode(data)
    names = _save_files(data, decoded)
    try:
        with transaction.atomic():
            artwork = Artwork.objects.create(
                original=names[0],
                display_image=names[1],
                thumbnail=names[2],
                sha256=sha256,
                file_size=len(data),
                width=decoded.width,
                height=decoded.height,
                format=decoded.format,
                original_filename=(filename or getattr(file, "name", "") or "")[-255:],
                title=title[:255],
                artist=artist[:255],
                year=year,
                source=source[:255],
                uploaded_by=uploaded_by,
                verified_style=dataset_style,
                label_source=Artwork.LabelSource.DATASET if dataset_style else Artwork.LabelSource.NONE,
            )
            if request_classification:
                _request_classification([artwork.pk])
    except IntegrityError:
        # Another upload of the same bytes won the race: keep its row, drop our files.
        _delete_files(*names)
        existing = Artwork.objects.filter(sha256=sha256).first()
        if existing is None:
            raise
        return IngestResult(artwork=existing, created=False)
    except BaseException:
        _delete_files(*names)
        raise
    logger.info("ingested artwork %s (%s %dx%d)", artwork.pk, decoded.format, decoded.width, decoded.height)
    return IngestResult(artwork=artwork, created=True)


def _request_classification(artwork_ids: list[int]) -> None:
    from classifier.services.dispatch import classification_request

    classification_request(artwork_ids=artwork_ids)
