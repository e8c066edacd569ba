"""Pagination: page numbers over querysets whose ordering always ends in a unique column."""

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class StablePageNumberPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        """A ``page_size`` that is not a positive whole number is a client error, not silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            raise serializers.ValidationError({self.page_size_query_param: ["Must be a whole number from 1 up."]})
        return min(int(raw), self.max_page_size)
