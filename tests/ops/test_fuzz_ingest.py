"""Fuzzing the ingest service with generated malformed images: a clean IngestError or a stored artwork, never
another exception, and a refused file leaves no row and no file behind. (``make drills`` runs a longer pass.)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from curation.models import Artwork
from curation.services.ingest import IngestError, artwork_ingest

pytestmark = pytest.mark.django_db


def _encoded(kind: str, width: int, height: int, colour: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (colour, 255 - colour, colour // 2)).save(buffer, format=kind)
    return buffer.getvalue()


@st.composite
def malformed_images(draw) -> bytes:
    data = bytearray(
        draw(
            st.one_of(
                st.builds(
                    _encoded,
                    st.sampled_from(["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"]),
                    st.integers(1, 320),
                    st.integers(1, 320),
                    st.integers(0, 255),
                ),
                st.binary(max_size=1024),
            )
        )
    )
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["truncate", "flip", "insert"]))
        if operation == "truncate":
            data = data[:position]
        elif operation == "flip":
            data[position] ^= draw(st.integers(1, 255))
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=32))
    return bytes(data)


def _media_files() -> set[str]:
    return {str(path) for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


@seed(7)
@hypothesis_settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=malformed_images())
def test_malformed_images_are_refused_cleanly_or_stored_whole(data):
    rows, files = Artwork.objects.count(), _media_files()
    try:
        result = artwork_ingest(file=data, filename="fuzz.bin", request_classification=False)
    except IngestError as error:
        assert error.code in {
            "empty", "too_large", "unsupported_format", "decompression_bomb", "too_small", "too_big_dimensions",
            "corrupt",
        }  # fmt: skip
        assert Artwork.objects.count() == rows
        assert _media_files() == files
        return
    artwork = result.artwork
    if result.created:
        assert Artwork.objects.count() == rows + 1
        assert _media_files() - files == {
            str(Path(settings.MEDIA_ROOT) / name)
            for name in (artwork.original.name, artwork.display_image.name, artwork.thumbnail.name)
        }
    assert artwork.format in {"JPEG", "PNG", "WEBP"}
    assert artwork.width >= 150
    assert artwork.height >= 150
