"""Pagination: page numbers over querysets whose ordering always ends in a unique column."""

from rest_framework.pagination import PageNumberPagination


class StablePageNumberPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
