"""The styles and the overview figures."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import RolePermission
from curation.api import examples
from curation.api.serializers import (
    OverviewStatsSerializer,
    StyleSerializer,
)
from curation.models import Style
from curation.selectors import overview_stats


@extend_schema(tags=["styles"])
class StyleListView(generics.ListAPIView):
    """The 27 WikiArt styles in ArtGAN class order; their ``code`` is what every other endpoint uses."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_style",)}
    serializer_class = StyleSerializer
    pagination_class = None
    queryset = Style.objects.order_by("class_index")

    @extend_schema(
        summary="List the styles",
        examples=[
            examples.response(
                "The first style",
                {
                    "code": "Abstract_Expressionism",
                    "name": "Abstract Expressionism",
                    "class_index": 0,
                    "review_threshold": None,
                },
            )
        ],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["stats"])
class StatsView(APIView):
    """The overview page's figures: counts by status, queue, throughput, latency, confidence, active model."""

    permission_classes = [RolePermission]
    required_permissions = {"GET": ("curation.view_artwork",)}

    @extend_schema(
        summary="Overview figures",
        responses={200: OverviewStatsSerializer},
        examples=[examples.response("A working day", examples.STATS)],
    )
    def get(self, request: Request) -> Response:
        return Response(OverviewStatsSerializer(overview_stats()).data)
