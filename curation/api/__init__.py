"""REST API v1 for artworks, the review queue and the overview figures (mounted by ``config/api_urls.py``)."""
