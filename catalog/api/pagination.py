"""Page-number pagination that answers a malformed ``page`` with a 400 naming it."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class CatalogPagination(pagination.PageNumberPagination):
    """``?page=N`` (and ``?page_size=N``, at most 100). A page past the end stays a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and int(raw) >= 1):
                raise ValidationError({self.page_query_param: ["Must be a positive whole number."]})
        return super().paginate_queryset(queryset, request, view)
