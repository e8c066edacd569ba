from django.urls import path

from curation.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token"),
    path("auth/token/revoke/", views.TokenRevokeView.as_view(), name="token-revoke"),
    path("styles/", views.StyleListView.as_view(), name="style-list"),
    path("stats/", views.StatsView.as_view(), name="stats"),
    path("artworks/", views.ArtworkListCreateView.as_view(), name="artwork-list"),
    path("artworks/<int:pk>/", views.ArtworkDetailView.as_view(), name="artwork-detail"),
    path("artworks/<int:pk>/image/", views.ArtworkImageView.as_view(), name="artwork-image"),
    path("artworks/<int:pk>/thumbnail/", views.ArtworkThumbnailView.as_view(), name="artwork-thumbnail"),
    path("reviews/", views.ReviewTaskListView.as_view(), name="review-list"),
    path("reviews/claim/", views.ReviewClaimNextView.as_view(), name="review-claim"),
    path("reviews/undo/", views.ReviewUndoView.as_view(), name="review-undo"),
    path("reviews/<int:pk>/", views.ReviewTaskDetailView.as_view(), name="review-detail"),
    path("reviews/<int:pk>/resolve/", views.ReviewResolveView.as_view(), name="review-resolve"),
    path("reviews/<int:pk>/skip/", views.ReviewSkipView.as_view(), name="review-skip"),
    path("reviews/<int:pk>/release/", views.ReviewReleaseView.as_view(), name="review-release"),
]
