from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class PagePagination(PageNumberPagination):
    """`?page=&limit=` answered as {"items", "total", "page", "limit"}."""

    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 200

    def get_paginated_response(self, data):
        assert self.page is not None  # paginate_queryset() ran first
        return Response(
            {
                "items": data,
                "total": self.page.paginator.count,
                "page": self.page.number,
                "limit": self.page.paginator.per_page,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["items", "total", "page", "limit"],
            "properties": {
                "items": schema,
                "total": {"type": "integer", "example": 123},
                "page": {"type": "integer", "example": 1},
                "limit": {"type": "integer", "example": self.page_size},
            },
        }
