from django.urls import path

from curation import views

urlpatterns = [
    path("artworks/<int:pk>/display/", views.artwork_display, name="artwork-display"),
    path("artworks/<int:pk>/thumbnail/", views.artwork_thumbnail, name="artwork-thumbnail"),
    path("artworks/<int:pk>/original/", views.artwork_original, name="artwork-original"),
]
