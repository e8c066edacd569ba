"""The ingest rules of SPEC.md, each with a real file and its exact outcome; refusals store nothing."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from curation.models import Artwork, Style
from curation.services.ingest import IngestError, artwork_ingest
from tests.images import encode, gradient, jpeg, png

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def assert_refused(settings, data: bytes, code: str, message_part: str) -> None:
    with pytest.raises(IngestError) as caught:
        artwork_ingest(file=io.BytesIO(data), filename="upload.jpg")
    assert caught.value.code == code
    assert message_part in caught.value.message
    assert Artwork.objects.count() == 0
    assert stored_files(settings) == []


def open_stored(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
        return image


def test_import_accepts_every_dev_sample_image(sample_dir, sample_labels, capsys):
    call_command("import_artworks", str(sample_dir), "--with-labels", "--no-classify", verbosity=0)

    assert Artwork.objects.count() == 654
    assert Artwork.objects.filter(format="WEBP").count() == 11
    assert Artwork.objects.filter(format="JPEG").count() == 643
    assert Artwork.objects.filter(label_source="dataset").count() == 654
    expected = {row["sha256"]: row for row in sample_labels}
    for artwork in Artwork.objects.select_related("verified_style"):
        row = expected[artwork.sha256]
        assert artwork.verified_style.code == row["style"]
        assert (artwork.width, artwork.height) == (int(row["width"]), int(row["height"]))
    assert "Imported 654 artworks; 0 already present; 0 rejected" in capsys.readouterr().out

    call_command("import_artworks", str(sample_dir), "--with-labels", "--no-classify", verbosity=0)
    assert Artwork.objects.count() == 654
    assert "Nothing to import: all 654 files are already in the collection." in capsys.readouterr().out


def test_import_reports_unknown_folders_and_rejects(tmp_path, capsys):
    (tmp_path / "Baroque").mkdir()
    (tmp_path / "Baroque" / "good.png").write_bytes(png((200, 180)))
    (tmp_path / "Baroque" / "tiny.png").write_bytes(png((100, 100)))
    (tmp_path / "Vaporwave").mkdir()
    (tmp_path / "Vaporwave" / "x.png").write_bytes(png((210, 180)))

    call_command("import_artworks", str(tmp_path), "--with-labels", "--no-classify", verbosity=0)

    captured = capsys.readouterr()
    assert "Skipped folder 'Vaporwave': not one of the 27 ArtGAN style names." in captured.err
    assert "Rejected Baroque/tiny.png: The image is 100×100 px; each side must be at least 150 px." in captured.err
    assert "Imported 1 artworks; 0 already present; 1 rejected; 1 unknown folders skipped." in captured.out
    assert list(Artwork.objects.values_list("verified_style__code", flat=True)) == ["Baroque"]


def test_real_painting_is_stored_with_derivatives(sample_dir, sample_labels, settings):
    largest = max(sample_labels, key=lambda row: int(row["width"]) * int(row["height"]))
    path = sample_dir / largest["file"]
    with open(path, "rb") as handle:
        result = artwork_ingest(file=handle, filename=path.name)

    artwork = result.artwork
    assert result.created is True
    assert artwork.status == Artwork.Status.PENDING
    assert artwork.original.name.startswith("originals/") and path.stem not in artwork.original.name
    with default_storage.open(artwork.original.name, "rb") as stored:
        assert stored.read() == path.read_bytes()
    display, thumbnail = open_stored(artwork.display_image.name), open_stored(artwork.thumbnail.name)
    assert (display.format, display.mode) == ("JPEG", "RGB")
    assert (artwork.width, artwork.height) == (int(largest["width"]), int(largest["height"]))
    assert max(display.size) == 1600
    assert max(thumbnail.size) == 320
    assert len(stored_files(settings)) == 3


def test_png_with_alpha_is_composited_on_white():
    image = gradient((300, 200), "RGBA")
    image.putalpha(Image.new("L", image.size, 0))  # fully transparent

    artwork = artwork_ingest(file=encode(image, "PNG")).artwork

    assert (artwork.format, artwork.width, artwork.height) == ("PNG", 300, 200)
    display = open_stored(artwork.display_image.name)
    assert display.mode == "RGB"
    assert display.getpixel((150, 100)) == (255, 255, 255)


def test_cmyk_jpeg_is_converted_to_rgb():
    data = encode(gradient((400, 300)).convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"

    artwork = artwork_ingest(file=data).artwork

    assert (artwork.format, artwork.width, artwork.height) == ("JPEG", 400, 300)
    assert open_stored(artwork.display_image.name).mode == "RGB"


def test_grayscale_is_converted_to_rgb():
    artwork = artwork_ingest(file=png((256, 256), mode="L")).artwork

    display = open_stored(artwork.display_image.name)
    assert display.mode == "RGB"
    red, green, blue = display.getpixel((128, 128))
    assert red == green == blue


def test_exif_orientation_is_applied():
    # A 300×200 landscape whose left half is red, stored with orientation 6 ("rotate 90° clockwise to view").
    image = Image.new("RGB", (300, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 150, 200))
    exif = Image.Exif()
    exif[0x0112] = 6

    artwork = artwork_ingest(file=encode(image, "JPEG", quality=95, exif=exif)).artwork

    assert (artwork.width, artwork.height) == (200, 300)
    display = open_stored(artwork.display_image.name)
    assert display.size == (200, 300)
    # Rotated clockwise, the red left half is now on top.
    top, bottom = display.getpixel((100, 40)), display.getpixel((100, 260))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_truncated_jpeg_is_refused(settings):
    data = jpeg((640, 480))
    assert_refused(settings, data[: len(data) // 2], "corrupt", "damaged or truncated")


def test_zero_bytes_are_refused(settings):
    assert_refused(settings, b"", "empty", "The file is empty (0 bytes).")


def test_too_small_image_is_refused(settings):
    message = "The image is 100×100 px; each side must be at least 150 px."
    assert_refused(settings, png((100, 100)), "too_small", message)


def test_too_long_image_is_refused(settings):
    assert_refused(
        settings, png((9000, 200)), "too_big_dimensions", "The image is 9000×200 px; each side must be at most 8192 px."
    )


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width×height (a decompression bomb's calling card)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused(settings):
    data = _png_declaring(20000, 20000)
    assert len(data) < 200
    assert_refused(settings, data, "decompression_bomb", "more pixels than can be decoded safely")


def test_gif_is_refused(settings):
    assert_refused(settings, encode(gradient((200, 200)), "GIF"), "unsupported_format", "not a JPEG, PNG or WebP")


def test_svg_is_refused(settings):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><rect width="400" height="400"/></svg>'
    assert_refused(settings, svg, "unsupported_format", "not a JPEG, PNG or WebP")


def test_html_renamed_jpg_is_refused(settings):
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    assert_refused(settings, html, "unsupported_format", "not a JPEG, PNG or WebP")


def test_tiff_and_bmp_are_refused(settings):
    assert_refused(settings, encode(gradient((200, 200)), "TIFF"), "unsupported_format", "not a JPEG, PNG or WebP")
    assert_refused(settings, encode(gradient((200, 200)), "BMP"), "unsupported_format", "not a JPEG, PNG or WebP")


def test_eleven_megabyte_file_is_refused(settings):
    data = png((200, 200)) + os.urandom(11 * 1024 * 1024)
    assert_refused(settings, data, "too_large", "larger than the 10 MB limit")


def test_png_with_html_payload_is_only_served_reencoded_or_as_attachment(client, django_user_model):
    payload = b"<html><script>alert('owned')</script></html>"
    data = png((300, 300)) + payload
    artwork = artwork_ingest(file=data).artwork
    user = django_user_model.objects.create_user("viewer", password="pw-123456789")
    client.force_login(user)

    display = client.get(f"/artworks/{artwork.pk}/display/")
    assert display.status_code == 200
    assert display["Content-Type"] == "image/jpeg"
    assert display["X-Content-Type-Options"] == "nosniff"
    assert payload not in b"".join(display.streaming_content)

    original = client.get(f"/artworks/{artwork.pk}/original/")
    assert original.status_code == 200
    assert original["Content-Type"] == "application/octet-stream"
    assert original["Content-Disposition"] == f'attachment; filename="artwork-{artwork.pk}.png"'
    assert original["X-Content-Type-Options"] == "nosniff"
    assert b"".join(original.streaming_content) == data


def test_images_require_login(client):
    artwork = artwork_ingest(file=png((300, 300))).artwork
    response = client.get(f"/artworks/{artwork.pk}/display/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_duplicate_upload_returns_existing_artwork(settings):
    data = jpeg((500, 400))
    first = artwork_ingest(file=data, title="First")
    files_after_first = stored_files(settings)

    second = artwork_ingest(file=io.BytesIO(data), title="Second")

    assert (first.created, second.created) == (True, False)
    assert second.artwork.pk == first.artwork.pk
    assert Artwork.objects.get().title == "First"
    assert stored_files(settings) == files_after_first


def test_dataset_label_is_recorded():
    baroque = Style.objects.get(code="Baroque")
    artwork = artwork_ingest(file=png((400, 300)), dataset_style=baroque).artwork
    assert (artwork.verified_style, artwork.label_source) == (baroque, Artwork.LabelSource.DATASET)
