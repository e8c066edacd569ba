"""The curator dashboard's views, one module per area; image serving keeps its old import path."""

from curation.views.images import artwork_display, artwork_original, artwork_thumbnail

__all__ = ["artwork_display", "artwork_original", "artwork_thumbnail"]
