from django.contrib import admin
from django.urls import include, path

from classifier.views import PredictView
from config.health import healthz, readyz
from config.metrics import metrics_view
from config.ratelimit import RateLimitedLoginView, admin_login

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    # Before django.contrib.auth.urls so that this name and path win: sign-in with failure rate limiting.
    path("accounts/login/", RateLimitedLoginView.as_view(), name="login"),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("predict", PredictView.as_view(), name="predict"),
    path("api/", include("config.api_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("curation.urls")),
]

# JSON errors in the API's envelope under /api/ and /predict; Django's own pages everywhere else.
handler400 = "config.api.errors.handler400"
handler403 = "config.api.errors.handler403"
handler404 = "config.api.errors.handler404"
handler500 = "config.api.errors.handler500"
