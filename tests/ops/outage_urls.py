"""A URLconf for the database-outage tests: views whose database connection really breaks on the first call."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

CALLS: dict[str, int] = {}


def _break_connection_once(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1
    if CALLS[name] == 1:
        with connection.cursor() as cursor:
            # The server ends this session: the statement fails with OperationalError, the connection is dead.
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def users_count(request: HttpRequest) -> JsonResponse:
    _break_connection_once(request.path)
    return JsonResponse({"users": get_user_model().objects.count(), "calls": CALLS[request.path]})


urlpatterns = [
    path("outage/read/", users_count),
    path("outage/write/", users_count),
    path("", include("config.urls")),
]
