"""Deployment artefacts: the compose file's shape, production settings that refuse insecure defaults."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "atelier.example.org",
    "DATABASE_URL": "sqlite:////tmp/atelier-deploy-check.sqlite3",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_services_have_healthchecks_and_wait_for_dependencies():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker-gpu", "worker", "beat"}
    for name in ("postgres", "redis", "web", "worker-gpu", "worker", "beat"):
        assert "healthcheck" in services[name], name
    assert services["postgres"]["healthcheck"]["test"][-1].startswith("pg_isready")
    for name in ("web", "worker-gpu", "worker", "beat"):
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
    gpu = services["worker-gpu"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    command = gpu["command"]
    assert command[command.index("-Q") + 1] == "inference"
    assert command[command.index("--pool") + 1] == "prefork"
    assert command[command.index("--prefetch-multiplier") + 1] == "64"
    assert command[command.index("--concurrency") + 1] == "1"
    assert services["web"]["command"][0] == "gunicorn"


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="no docker compose client on this machine")
def test_docker_compose_config_validates(tmp_path):
    env_file = REPO / ".env"
    created = not env_file.exists()
    if created:
        env_file.write_text((REPO / ".env.example").read_text())
    try:
        result = subprocess.run(["docker-compose", "config", "-q"], cwd=REPO, capture_output=True, text=True)
    finally:
        if created:
            env_file.unlink()
    assert result.returncode == 0, result.stderr


def test_production_settings_refuse_to_start_without_secret_key():
    result = run_manage("check", env={"DJANGO_DEBUG": "false", "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"]})
    assert result.returncode == 1
    assert "Production mode (DJANGO_DEBUG=false) needs DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean_in_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
