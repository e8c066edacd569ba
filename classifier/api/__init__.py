"""REST API v1 for the model registry, training runs and predictions (mounted by ``config/api_urls.py``)."""
