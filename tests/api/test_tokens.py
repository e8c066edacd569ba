"""API tokens: the endpoint, the management command, the admin action."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory


def test_token_endpoint_returns_the_users_token(db, client):
    user = UserFactory(username="alice", roles=["curator"])
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "correct horse battery staple"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}
    again = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "correct horse battery staple"},
        content_type="application/json",
    )
    assert again.json() == response.json()
    wrong = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "nope"}, content_type="application/json"
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == {
        "code": "invalid_credentials",
        "message": "Unable to sign in with these credentials.",
        "fields": {},
    }
    assert Token.objects.count() == 1


def test_create_api_token_command(db, capsys):
    user = UserFactory(username="batch-script")
    call_command("create_api_token", "batch-script")
    key = capsys.readouterr().out.strip()
    assert key == Token.objects.get(user=user).key
    call_command("create_api_token", "batch-script")
    assert capsys.readouterr().out.strip() == key
    call_command("create_api_token", "batch-script", "--reset")
    new_key = capsys.readouterr().out.strip()
    assert new_key == Token.objects.get(user=user).key
    assert new_key != key
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_token", "ghost")
    assert Token.objects.count() == 1


def test_admin_action_creates_tokens(db, client):
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    users = [UserFactory(username="museum-db"), UserFactory(username="scanner")]
    client.force_login(admin_user)
    response = client.post(
        "/admin/auth/user/",
        {"action": "create_api_tokens", "_selected_action": [user.pk for user in users]},
        follow=True,
    )
    assert response.status_code == 200
    assert sorted(Token.objects.values_list("user__username", flat=True)) == ["museum-db", "scanner"]
    messages = [str(message) for message in response.context["messages"]]
    assert sorted(messages) == sorted(f"API token for {token.user}: {token.key}" for token in Token.objects.all())


def test_revoked_token_stops_working(db):
    user = UserFactory(username="scanner", roles=["curator"])
    call_command("create_api_token", "scanner")
    key = Token.objects.get(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/styles/").status_code == 200
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    assert Token.objects.filter(user=user).count() == 0
    refused = client.get("/api/v1/styles/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "authentication_failed")
