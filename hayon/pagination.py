"""Page-numbered lists: `?page=2&page_size=20`, answered as {count, next, previous, results}."""

from typing import Any

from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    page_size_query_description = "Results per page (at most HAYON_API_MAX_PAGE_SIZE)."
    page_query_description = "The page number, from 1."

    @property
    def max_page_size(self) -> int:
        return settings.HAYON_API_MAX_PAGE_SIZE

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        properties = described["properties"]
        properties["count"]["description"] = "How many results there are across all pages."
        properties["next"]["description"] = "The URL of the next page; null on the last."
        properties["previous"]["description"] = "The URL of the previous page; null on the first."
        properties["results"] = {**schema, "description": "The results on this page."}
        return described
