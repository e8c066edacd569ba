from django.contrib import admin
from django.urls import include, path

from classifier.views import PredictView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("predict", PredictView.as_view(), name="predict"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("curation.urls")),
]
