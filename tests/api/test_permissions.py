"""Every endpoint × {anonymous, curator, reviewer, ml_admin} → the exact status, and what a refusal looks like."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from classifier.models import ModelVersion, TrainingRun
from curation.models import Artwork, ReviewEvent, ReviewTask
from curation.services.review import review_claim_next, review_resolve
from tests.api.conftest import ROLES
from tests.factories import (
    ArtworkFactory,
    ModelVersionFactory,
    PredictionFactory,
    UserFactory,
    review_task_create,
    sample_image,
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    # (role_users, objects) → url
    url: Callable[[dict[str, Any]], str]
    expected: tuple[int, int, int, int]  # anonymous, curator, reviewer, ml_admin
    body: Callable[[dict[str, Any]], dict] | None = None
    multipart: bool = False


def _objects(role_users, *, reviewer_holds_claim: bool = True, reviewer_decided: bool = False) -> dict[str, Any]:
    """One of everything, with the reviewer holding the claim on the review task (as in daily use)."""
    artwork = ArtworkFactory(image_index=0)
    version = ModelVersionFactory(name="candidate-version")
    PredictionFactory(artwork=artwork, model_version=version)
    task = review_task_create(image_index=1)
    reviewer = role_users["reviewer"]
    if reviewer_holds_claim:
        assert review_claim_next(reviewer=reviewer).pk == task.pk
    if reviewer_decided:
        review_resolve(task=task, reviewer=reviewer, decision="accepted")
    run = TrainingRun.objects.create(config={"from_db": True}, started_by=role_users["ml_admin"])
    return {"artwork": artwork, "version": version, "task": task, "run": run}


def _upload(objects) -> dict:
    path, _ = sample_image(5)
    return {"file": [SimpleUploadedFile(path.name, path.read_bytes())]}


ENDPOINTS = [
    Endpoint("styles", "get", lambda o: "/api/v1/styles/", (401, 200, 200, 200)),
    Endpoint("stats", "get", lambda o: "/api/v1/stats/", (401, 200, 200, 200)),
    Endpoint("artwork list", "get", lambda o: "/api/v1/artworks/", (401, 200, 200, 200)),
    Endpoint("artwork upload", "post", lambda o: "/api/v1/artworks/", (401, 201, 403, 403), _upload, True),
    Endpoint("artwork detail", "get", lambda o: f"/api/v1/artworks/{o['artwork'].pk}/", (401, 200, 200, 200)),
    Endpoint("artwork image", "get", lambda o: f"/api/v1/artworks/{o['artwork'].pk}/image/", (401, 200, 200, 200)),
    Endpoint(
        "artwork thumbnail", "get", lambda o: f"/api/v1/artworks/{o['artwork'].pk}/thumbnail/", (401, 200, 200, 200)
    ),
    Endpoint(
        "artwork predictions",
        "get",
        lambda o: f"/api/v1/artworks/{o['artwork'].pk}/predictions/",
        (401, 200, 200, 200),
    ),
    Endpoint("review list", "get", lambda o: "/api/v1/reviews/", (401, 403, 200, 200)),
    Endpoint("review detail", "get", lambda o: f"/api/v1/reviews/{o['task'].pk}/", (401, 403, 200, 200)),
    Endpoint("review claim", "post", lambda o: "/api/v1/reviews/claim/", (401, 403, 200, 403)),
    Endpoint(
        "review resolve",
        "post",
        lambda o: f"/api/v1/reviews/{o['task'].pk}/resolve/",
        (401, 403, 200, 403),
        lambda o: {"decision": "corrected", "style": "Baroque"},
    ),
    Endpoint("review skip", "post", lambda o: f"/api/v1/reviews/{o['task'].pk}/skip/", (401, 403, 200, 403)),
    Endpoint("review release", "post", lambda o: f"/api/v1/reviews/{o['task'].pk}/release/", (401, 403, 200, 403)),
    Endpoint("model list", "get", lambda o: "/api/v1/models/", (401, 200, 200, 200)),
    Endpoint("model detail", "get", lambda o: f"/api/v1/models/{o['version'].pk}/", (401, 200, 200, 200)),
    Endpoint(
        "model activate",
        "post",
        lambda o: f"/api/v1/models/{o['version'].pk}/activate/",
        (401, 403, 403, 200),
        lambda o: {"note": "matrix"},
    ),
    Endpoint("training list", "get", lambda o: "/api/v1/training-runs/", (401, 403, 403, 200)),
    Endpoint("training detail", "get", lambda o: f"/api/v1/training-runs/{o['run'].pk}/", (401, 403, 403, 200)),
    Endpoint(
        "training start",
        "post",
        lambda o: "/api/v1/training-runs/",
        (401, 403, 403, 202),
        lambda o: {"from_db": True, "models": ["simple_cnn"], "epochs": 1},
    ),
    Endpoint("token revoke", "post", lambda o: "/api/v1/auth/token/revoke/", (401, 204, 204, 204)),
    Endpoint("schema", "get", lambda o: "/api/schema/", (200, 200, 200, 200)),
    Endpoint("docs", "get", lambda o: "/api/docs/", (200, 200, 200, 200)),
]


def _call(client, endpoint: Endpoint, objects):
    url = endpoint.url(objects)
    if endpoint.method == "get":
        return client.get(url)
    body = endpoint.body(objects) if endpoint.body else {}
    return client.post(url, body, format="multipart" if endpoint.multipart else "json")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.name for endpoint in ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(endpoint, role, role_users, client_for):
    objects = _objects(role_users)
    response = _call(client_for(role), endpoint, objects)
    assert response.status_code == endpoint.expected[ROLES.index(role)], response.content[:300]
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Token"
        assert response.json() == {
            "error": {
                "code": "not_authenticated",
                "message": "Authentication credentials were not provided.",
                "fields": {},
            }
        }
    elif response.status_code == 403:
        assert response.json()["error"]["code"] == "permission_denied"


def test_undo_matrix(role_users, client_for):
    """Undo needs a decision to revert: only the reviewer who decided gets 200; the others are refused."""
    objects = _objects(role_users, reviewer_decided=True)
    statuses = {role: client_for(role).post("/api/v1/reviews/undo/").status_code for role in ("anonymous", "curator")}
    statuses["ml_admin"] = client_for("ml_admin").post("/api/v1/reviews/undo/").status_code
    statuses["reviewer"] = client_for("reviewer").post("/api/v1/reviews/undo/").status_code
    assert statuses == {"anonymous": 401, "curator": 403, "ml_admin": 403, "reviewer": 200}
    objects["task"].refresh_from_db()
    assert objects["task"].status == ReviewTask.Status.CLAIMED
    assert objects["task"].claimed_by == role_users["reviewer"]


def test_predict_matrix(role_users, client_for, make_version, sample_dir):
    """The prototype's /predict stays open to everybody; saving the image needs the curator's add permission."""
    make_version("matrix-model")
    path, _ = sample_image(2)
    statuses = {}
    for role in ROLES:
        with open(path, "rb") as handle:
            statuses[role] = client_for(role).post("/predict", {"file": handle}, format="multipart").status_code
    assert statuses == {"anonymous": 200, "curator": 200, "reviewer": 200, "ml_admin": 200}
    saving = {}
    for role in ROLES:
        with open(path, "rb") as handle:
            response = client_for(role).post("/predict", {"file": handle, "save": "true"}, format="multipart")
        saving[role] = response.status_code
    assert saving == {"anonymous": 401, "curator": 200, "reviewer": 403, "ml_admin": 403}
    assert Artwork.objects.count() == 1


def test_another_reviewer_cannot_resolve_a_claimed_task(role_users, client_for):
    """Object-level rule: only the claimant decides. The refusal changes nothing."""
    objects = _objects(role_users)
    task = objects["task"]
    other = client_for("reviewer")  # build the first client before adding the second reviewer's token
    second = role_users["reviewer"].__class__.objects.create_user(username="second-reviewer", password="x" * 12)
    second.groups.add(*role_users["reviewer"].groups.all())
    token = Token.objects.create(user=second)
    other.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    events_before = ReviewEvent.objects.count()

    for action, body in (("resolve", {"decision": "accepted"}), ("skip", {}), ("release", {})):
        response = other.post(f"/api/v1/reviews/{task.pk}/{action}/", body, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_claimant"

    task.refresh_from_db()
    assert (task.status, task.claimed_by, task.decision) == (ReviewTask.Status.CLAIMED, role_users["reviewer"], "")
    assert ReviewEvent.objects.count() == events_before
    assert Artwork.objects.get(pk=task.artwork_id).status == Artwork.Status.NEEDS_REVIEW


def test_refused_upload_and_activation_change_nothing(role_users, client_for):
    objects = _objects(role_users)
    artworks_before = Artwork.objects.count()
    path, _ = sample_image(7)
    with open(path, "rb") as handle:
        response = client_for("reviewer").post("/api/v1/artworks/", {"file": [handle]}, format="multipart")
    assert response.status_code == 403
    assert Artwork.objects.count() == artworks_before

    response = client_for("curator").post(f"/api/v1/models/{objects['version'].pk}/activate/", {}, format="json")
    assert response.status_code == 403
    assert ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).count() == 0


def test_bad_token_is_401_with_the_envelope(db, client):
    response = client.get("/api/v1/artworks/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"error": {"code": "authentication_failed", "message": "Invalid token.", "fields": {}}}


def test_session_authentication_works_for_signed_in_pages_users(role_users, client):
    client.force_login(role_users["curator"])
    assert client.get("/api/v1/artworks/").status_code == 200
    assert client.get("/api/v1/reviews/").status_code == 403


def test_options_and_head_follow_the_roles(role_users, client_for):
    reviewer, curator = client_for("reviewer"), client_for("curator")
    assert reviewer.options("/api/v1/reviews/claim/").status_code == 200
    assert curator.options("/api/v1/reviews/claim/").status_code == 403
    assert curator.options("/api/v1/artworks/").status_code == 200
    assert curator.head("/api/v1/artworks/").status_code == 200
    assert curator.head("/api/v1/reviews/").status_code == 403


def test_superuser_may_do_everything(db, client_for):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    token = Token.objects.create(user=root)
    client = client_for("anonymous")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    version = ModelVersionFactory(name="root-version")
    task = review_task_create(image_index=3)
    assert client.post(f"/api/v1/models/{version.pk}/activate/", {}, format="json").status_code == 200
    assert client.post("/api/v1/reviews/claim/").json()["id"] == task.pk
    assert client.get("/api/v1/training-runs/").status_code == 200
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == version


def test_token_endpoint_matrix(role_users, client):
    """Open to everybody (it is how a client gets credentials): each role gets its own token, a wrong password 400."""
    statuses = {}
    for role in ("curator", "reviewer", "ml_admin"):
        response = client.post(
            "/api/v1/auth/token/",
            {"username": role, "password": "correct horse battery staple"},
            content_type="application/json",
        )
        statuses[role] = response.status_code
        assert response.json() == {"token": Token.objects.get(user=role_users[role]).key}
    statuses["anonymous"] = client.post(
        "/api/v1/auth/token/", {"username": "curator", "password": "guess"}, content_type="application/json"
    ).status_code
    assert statuses == {"curator": 200, "reviewer": 200, "ml_admin": 200, "anonymous": 400}
