"""Training runs over the API."""

from __future__ import annotations


def test_training_start_queues_a_run_on_the_default_queue(role_users, client_for, django_capture_on_commit_callbacks):
    from classifier.models import TrainingRun
    from mltrain.tasks import run_training

    assert run_training.queue == "default"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for("ml_admin").post(
            "/api/v1/training-runs/", {"from_db": True, "models": ["simple_cnn"], "epochs": 1}, format="json"
        )
    assert response.status_code == 202
    assert len(callbacks) == 1
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert response.json()["status"] == "queued"
    assert run.started_by == role_users["ml_admin"]
    assert run.config == {
        "data": None,
        "from_db": True,
        "models": ["simple_cnn"],
        "preset": "",
        "epochs": 1,
        "device": "auto",
        "freeze_backbone": False,
        "split": "stratified",
        "pretrained": True,
        "activate_best": False,
    }
    # The task ran (in-process here): with no verified labels in the database the worker records why it failed.
    run.refresh_from_db()
    assert (run.status, run.error) == (
        TrainingRun.Status.FAILED,
        "No labelled images: the folder is empty and no artwork has a verified style",
    )


def test_training_start_refuses_bad_options_and_creates_nothing(role_users, client_for):
    from classifier.models import TrainingRun

    admin = client_for("ml_admin")
    response = admin.post("/api/v1/training-runs/", {"models": ["simple_cnn"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"non_field_errors": ["Give a data folder, or from_db=true, or both."]}
    response = admin.post("/api/v1/training-runs/", {"data": "/no/such/folder"}, format="json")
    assert response.json()["error"]["fields"] == {"data": ["No such folder on the server."]}
    response = admin.post("/api/v1/training-runs/", {"from_db": True, "models": ["alexnet"]}, format="json")
    assert response.json()["error"]["fields"] == {"models.0": ['"alexnet" is not a valid choice.']}
    assert TrainingRun.objects.count() == 0


def _forget_broker_connections(celery_app) -> None:
    """Celery caches its connection and producer pools for the broker URL it first used; drop them so that the
    next publish connects to the URL configured now."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_run_that_cannot_reach_the_broker_fails_with_the_reason(
    role_users, client_for, django_capture_on_commit_callbacks, monkeypatch
):
    from classifier.models import TrainingRun
    from config.celery_app import app as celery_app

    previous = (celery_app.conf.CELERY_TASK_ALWAYS_EAGER, celery_app.conf.CELERY_BROKER_URL)
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # Celery prefers the environment's URL
    _forget_broker_connections(celery_app)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for("ml_admin").post("/api/v1/training-runs/", {"from_db": True}, format="json")
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER, celery_app.conf.CELERY_BROKER_URL = previous
        _forget_broker_connections(celery_app)
    assert response.status_code == 202
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert run.status == TrainingRun.Status.FAILED
    assert run.error == (
        "The task queue could not be reached, so no worker received this run (Error 111 connecting to "
        "127.0.0.1:1. Connection refused.). Start it again."
    )
