"""``/api/``: version 1 of the REST API, its OpenAPI schema and the interactive docs (Swagger UI, offline assets)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api.admin import install_token_action

app_name = "api"

install_token_action()

urlpatterns = [
    path("v1/", include("curation.api.urls")),
    path("v1/", include("classifier.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the pages' CSP (script-src 'self') allows it.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
