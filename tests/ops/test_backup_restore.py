"""scripts/backup.sh and scripts/restore.sh end to end on PostgreSQL: what comes back is what was there."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from classifier.models import Prediction
from curation.models import Artwork
from tests.factories import ArtworkFactory, ModelVersionFactory, PredictionFactory

# pg_dump needs committed data: a transactional database (tests/conftest.py restores the reference data).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

REPO = Path(__file__).resolve().parents[2]


def _url(name: str) -> str:
    from django.db import connection

    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params["HOST"] or "127.0.0.1"
    return f"postgres://{params['USER']}{password}@{host}:{params['PORT'] or 5432}/{name}"


def _run(script: str, *args: str, database_url: str, media_root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root)}
    return subprocess.run([str(REPO / "scripts" / script), *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def restore_database(require_postgres):
    from django.db import connection

    name = f"{connection.settings_dict['NAME']}_restore"
    admin_url = _url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_backup_then_restore_into_an_empty_database_and_media_dir(restore_database, settings, tmp_path):
    from django.db import connection

    artworks = [ArtworkFactory(image_index=index) for index in range(3)]
    PredictionFactory(artwork=artworks[0], model_version=ModelVersionFactory(name="backup-model"), confidence=0.77)
    media = Path(settings.MEDIA_ROOT)
    original_tree = _tree(media)
    assert len(original_tree) == 9  # original, display image and thumbnail of each artwork

    backups = tmp_path / "backups"
    made = _run("backup.sh", str(backups), database_url=_url(connection.settings_dict["NAME"]), media_root=media)
    assert made.returncode == 0, made.stderr
    backup_dir = Path(made.stdout.strip())
    assert (backups / "latest").resolve() == backup_dir.resolve()
    assert sorted(p.name for p in backup_dir.iterdir()) == ["SHA256SUMS", "db.dump", "media"]

    restored_media = tmp_path / "restored-media"
    restored = _run(
        "restore.sh", str(backup_dir), "--yes", database_url=_url(restore_database), media_root=restored_media
    )
    assert restored.returncode == 0, restored.stderr

    assert _tree(restored_media) == original_tree
    with psycopg.connect(_url(restore_database)) as copy:
        rows = copy.execute(
            "SELECT id, sha256, original, display_image, thumbnail FROM curation_artwork ORDER BY id"
        ).fetchall()
        predictions = copy.execute("SELECT artwork_id, confidence FROM classifier_prediction").fetchall()
        styles = copy.execute("SELECT count(*) FROM curation_style").fetchone()[0]
    expected = list(
        Artwork.objects.order_by("id").values_list("id", "sha256", "original", "display_image", "thumbnail")
    )
    assert rows == expected
    assert predictions == [(artworks[0].pk, 0.77)]
    assert styles == 27
    for _pk, sha256, original, _display, _thumb in rows:
        assert hashlib.sha256((restored_media / original).read_bytes()).hexdigest() == sha256
    assert Prediction.objects.count() == 1


def test_a_damaged_backup_is_refused_and_nothing_changes(restore_database, settings, tmp_path):
    from django.db import connection

    ArtworkFactory(image_index=0)
    media = Path(settings.MEDIA_ROOT)
    made = _run("backup.sh", str(tmp_path / "b"), database_url=_url(connection.settings_dict["NAME"]), media_root=media)
    assert made.returncode == 0, made.stderr
    backup_dir = Path(made.stdout.strip())
    victim = next((backup_dir / "media" / "originals").iterdir())
    victim.write_bytes(victim.read_bytes()[:-10])

    target_media = tmp_path / "target-media"
    target_media.mkdir()
    (target_media / "keep.txt").write_text("untouched")
    result = _run("restore.sh", str(backup_dir), "--yes", database_url=_url(restore_database), media_root=target_media)
    assert result.returncode == 1
    assert "checksum verification failed" in result.stderr
    assert _tree(target_media) == {"keep.txt": hashlib.sha256(b"untouched").hexdigest()}
    with psycopg.connect(_url(restore_database)) as copy:
        tables = copy.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    assert tables == 0


def test_restore_needs_confirmation(tmp_path):
    result = _run("restore.sh", str(tmp_path), database_url="postgres://x@127.0.0.1/none", media_root=tmp_path)
    assert result.returncode == 2
    assert "add --yes" in result.stderr
