"""Fixtures for the API suites: one user per role with a token, token-authenticated clients.

The cache (throttle counters) is emptied before every test by the autouse fixture in tests/conftest.py.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from config.api.tokens import api_token_issue
from curation.roles import CURATOR, ML_ADMIN, REVIEWER
from tests.classifier.conftest import lite0_checkpoints, make_version  # noqa: F401  (shared fixtures)
from tests.factories import UserFactory

ROLES = ("anonymous", CURATOR, REVIEWER, ML_ADMIN)


@pytest.fixture(autouse=True)
def _no_loaded_engine():
    """The inference engine is cached per process; ids are reused across rolled-back tests, so start clean."""
    from classifier.engine.runtime import engine_unload

    engine_unload()
    yield
    engine_unload()


@pytest.fixture
def role_users(db) -> dict[str, object]:
    return {role: UserFactory(username=role, roles=[role]) for role in (CURATOR, REVIEWER, ML_ADMIN)}


@pytest.fixture
def client_for(role_users):
    """``client_for("curator")`` → an APIClient sending that user's token; ``client_for("anonymous")`` sends none."""

    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            token, _ = api_token_issue(user=role_users[role])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
