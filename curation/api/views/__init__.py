"""API views of the collection and the review queue. Thin: validate, call one service or selector, shape output."""

from curation.api.views.artworks import (
    ArtworkDetailView,
    ArtworkImageView,
    ArtworkListCreateView,
    ArtworkThumbnailView,
)
from curation.api.views.overview import StatsView, StyleListView
from curation.api.views.reviews import (
    ReviewClaimNextView,
    ReviewReleaseView,
    ReviewResolveView,
    ReviewSkipView,
    ReviewTaskDetailView,
    ReviewTaskListView,
    ReviewUndoView,
)
from curation.api.views.tokens import TokenObtainView, TokenRevokeView

__all__ = [
    "ArtworkDetailView",
    "ArtworkImageView",
    "ArtworkListCreateView",
    "ArtworkThumbnailView",
    "ReviewClaimNextView",
    "ReviewReleaseView",
    "ReviewResolveView",
    "ReviewSkipView",
    "ReviewTaskDetailView",
    "ReviewTaskListView",
    "ReviewUndoView",
    "StatsView",
    "StyleListView",
    "TokenObtainView",
    "TokenRevokeView",
]
