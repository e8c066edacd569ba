"""API tokens in exchange for a username and password."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import ApiError
from config.api.tokens import api_token_issue, api_token_revoke
from config.ratelimit import login_failure_record, login_is_locked
from curation.api.serializers import (
    TokenRequestSerializer,
    TokenSerializer,
)


@extend_schema(tags=["auth"])
class TokenObtainView(APIView):
    """Exchange a username and password for the user's API token (the same token on every call)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        summary="Get an API token",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, 400: OpenApiResponse(description="Wrong username or password.")},
        auth=[],
        examples=[
            OpenApiExample("Request", request_only=True, value={"username": "alice", "password": "s3cret-pass"}),
            OpenApiExample("Response", response_only=True, value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        # The sign-in pages' limiter (config/ratelimit.py): the token endpoint is a way to guess passwords too.
        if login_is_locked(request=request._request, username=username):
            raise ApiError(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                code="too_many_failures",
                message="Too many failed sign-in attempts. Wait a few minutes and try again.",
            )
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            login_failure_record(request=request._request, username=username)
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="invalid_credentials",
                message="Unable to sign in with these credentials.",
            )
        token, _ = api_token_issue(user=user)
        return Response({"token": token.key})


@extend_schema(tags=["auth"])
class TokenRevokeView(APIView):
    """Revoke your own API token, e.g. when a script's key may have leaked; get a new one from the endpoint above."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Revoke your API token",
        request=None,
        responses={204: OpenApiResponse(description="The token no longer works.")},
    )
    def post(self, request: Request) -> Response:
        api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
