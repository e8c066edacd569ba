from django.urls import path

from curation import views
from curation.views import dashboard, export, models, review, upload

urlpatterns = [
    path("", dashboard.overview, name="overview"),
    path("gallery/", dashboard.gallery, name="gallery"),
    path("artworks/<int:pk>/", dashboard.artwork_page, name="artwork-page"),
    path("artworks/<int:pk>/display/", views.artwork_display, name="artwork-display"),
    path("artworks/<int:pk>/thumbnail/", views.artwork_thumbnail, name="artwork-thumbnail"),
    path("artworks/<int:pk>/original/", views.artwork_original, name="artwork-original"),
    path("upload/", upload.upload_page, name="upload"),
    path("upload/file/", upload.upload_file, name="upload-file"),
    path("upload/status/", upload.upload_status, name="upload-status"),
    path("review/", review.review_queue, name="review-queue"),
    path("review/undo/", review.review_undo, name="review-undo"),
    path("review/stats/", review.review_stats, name="review-stats"),
    path("review/<int:pk>/decide/", review.review_decide, name="review-decide"),
    path("review/<int:pk>/skip/", review.review_skip_view, name="review-skip"),
    path("review/<int:pk>/release/", review.review_release_view, name="review-release"),
    path("models/", models.model_list, name="model-list"),
    path("models/<int:pk>/", models.model_detail, name="model-detail"),
    path("models/<int:pk>/plots/<slug:kind>.png", models.model_plot, name="model-plot"),
    path("models/<int:pk>/activate/", models.model_activate, name="model-activate"),
    path("training/", models.training_list, name="training-list"),
    path("training/start/", models.training_start, name="training-start"),
    path("training/<int:pk>/", models.training_detail, name="training-detail"),
    path("training/<int:pk>/progress/", models.training_progress, name="training-progress"),
    path("export/", export.export_page, name="export"),
    path("export/artworks.<str:fmt>", export.export_download, name="export-download"),
]
