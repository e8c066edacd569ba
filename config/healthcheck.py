"""Command-line probes for docker compose and operators; see ``config.health.main``.

    python -m config.healthcheck worker --hostname gpu@$HOSTNAME --require-model
    python -m config.healthcheck ready

(A module of its own: ``python -m config.health`` would load config.health twice, because importing the
``config`` package already imports it for the Celery signals.)
"""

from config.health import main

if __name__ == "__main__":
    raise SystemExit(main())
