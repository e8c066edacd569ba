"""Security headers, CSP on pages, HSTS behind TLS, CSRF on sign-in, and sign-in rate limiting."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token

from curation.models import Artwork
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


def test_pages_carry_csp_frame_deny_and_nosniff(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == django_settings.ATELIER_CSP
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_json_responses_get_no_csp_but_nosniff(client):
    response = client.get("/healthz")
    assert "Content-Security-Policy" not in response
    assert response["X-Content-Type-Options"] == "nosniff"


def test_hsts_is_sent_over_tls(client, settings):
    settings.SECURE_HSTS_SECONDS = 2592000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    assert client.get("/healthz", secure=True)["Strict-Transport-Security"] == "max-age=2592000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/healthz", secure=False)


def test_sign_in_without_csrf_token_is_refused():
    UserFactory(username="curator1")
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/accounts/login/", {"username": "curator1", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in csrf_client.session


def test_repeated_failures_lock_the_account_and_the_address(client, settings):
    settings.ATELIER = {**settings.ATELIER, "LOGIN_MAX_FAILURES": 3, "LOGIN_LOCKOUT_SECONDS": 600}
    UserFactory(username="curator2")
    UserFactory(username="reviewer2")
    for _ in range(3):
        response = client.post(
            "/accounts/login/", {"username": "curator2", "password": "wrong"}, REMOTE_ADDR="10.0.0.5"
        )
        assert response.status_code == 200  # the form again, with its error

    locked = client.post("/accounts/login/", {"username": "curator2", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "600"
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    # The account is locked from another address too…
    elsewhere = Client()
    response = elsewhere.post(
        "/accounts/login/", {"username": "curator2", "password": PASSWORD}, REMOTE_ADDR="10.0.0.6"
    )
    assert response.status_code == 429
    # …and the address is locked for other accounts; another address and account sign in normally.
    same_address = Client().post(
        "/accounts/login/", {"username": "reviewer2", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5"
    )
    assert same_address.status_code == 429
    fine = Client()
    response = fine.post("/accounts/login/", {"username": "reviewer2", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 302
    assert fine.session["_auth_user_id"] == str(UserFactory(username="reviewer2").pk)


def test_a_success_clears_the_account_counter(client, settings):
    settings.ATELIER = {**settings.ATELIER, "LOGIN_MAX_FAILURES": 3, "LOGIN_LOCKOUT_SECONDS": 600}
    UserFactory(username="curator3")
    for address in ("10.1.0.1", "10.1.0.2"):
        client.post("/accounts/login/", {"username": "curator3", "password": "wrong"}, REMOTE_ADDR=address)
    assert (
        client.post(
            "/accounts/login/", {"username": "curator3", "password": PASSWORD}, REMOTE_ADDR="10.1.0.3"
        ).status_code
        == 302
    )
    client.logout()
    for address in ("10.1.0.4", "10.1.0.5"):
        client.post("/accounts/login/", {"username": "curator3", "password": "wrong"}, REMOTE_ADDR=address)
    assert (
        client.post(
            "/accounts/login/", {"username": "curator3", "password": PASSWORD}, REMOTE_ADDR="10.1.0.6"
        ).status_code
        == 302
    )


def test_admin_sign_in_is_rate_limited_too(client, settings):
    settings.ATELIER = {**settings.ATELIER, "LOGIN_MAX_FAILURES": 2, "LOGIN_LOCKOUT_SECONDS": 300}
    UserFactory(username="admin1", is_staff=True, is_superuser=True)
    for _ in range(2):
        response = client.post("/admin/login/", {"username": "admin1", "password": "wrong"}, REMOTE_ADDR="10.2.0.1")
        assert response.status_code == 200
    locked = client.post("/admin/login/", {"username": "admin1", "password": PASSWORD}, REMOTE_ADDR="10.2.0.1")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/login/", REMOTE_ADDR="10.2.0.1").status_code == 200


def _page_paths() -> list[str]:
    """Every URL of the project outside the admin and the API, with sample values for its parameters."""
    import re

    from django.urls import URLPattern, URLResolver, get_resolver

    samples = {"int": "1", "slug": "confusion", "str": "csv", "path": "x"}
    paths: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route.startswith(("admin/", "api/")):
                    continue
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                full = re.sub(r"<(?:(\w+):)?\w+>", lambda m: samples[m.group(1) or "str"], prefix + route)
                if not full.startswith(("admin/", "api/", "^")):
                    paths.append("/" + full)

    walk(get_resolver().url_patterns, "")
    return paths


def test_every_page_refuses_a_post_without_csrf_token():
    user = UserFactory(username="csrf-admin", is_staff=True, is_superuser=True)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    paths = _page_paths()
    assert "/upload/file/" in paths
    assert "/review/1/decide/" in paths
    answers = {path: csrf_client.post(path, {"style": "Impressionism"}).status_code for path in paths}
    assert {path: status for path, status in answers.items() if status != 403} == {}


def test_the_api_enforces_csrf_for_session_clients(sample_dir):
    user = UserFactory(username="csrf-api", is_staff=True, is_superuser=True)
    image = next(sample_dir.glob("Impressionism/*.jpg")).read_bytes()
    session_client = Client(enforce_csrf_checks=True)
    session_client.force_login(user)
    refused = session_client.post("/api/v1/artworks/", {"file": SimpleUploadedFile("a.jpg", image, "image/jpeg")})
    assert refused.status_code == 403
    assert Artwork.objects.count() == 0
    token = Token.objects.create(user=user)
    accepted = Client(enforce_csrf_checks=True).post(
        "/api/v1/artworks/",
        {"file": SimpleUploadedFile("a.jpg", image, "image/jpeg")},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert accepted.status_code == 201
    assert Artwork.objects.count() == 1


def test_the_api_token_endpoint_shares_the_sign_in_limiter(client, settings):
    settings.ATELIER = {**settings.ATELIER, "LOGIN_MAX_FAILURES": 2, "LOGIN_LOCKOUT_SECONDS": 300}
    UserFactory(username="api-user")
    for _ in range(2):
        response = client.post(
            "/api/v1/auth/token/", {"username": "api-user", "password": "wrong"}, REMOTE_ADDR="10.3.0.1"
        )
        assert response.status_code == 400
    locked = client.post("/api/v1/auth/token/", {"username": "api-user", "password": PASSWORD}, REMOTE_ADDR="10.3.0.2")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_failures"
    assert Token.objects.filter(user__username="api-user").count() == 0
