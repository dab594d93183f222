"""The catalogue's pagination: the project's (a malformed ``page`` is a 400 naming it) plus ``?page_size``."""

from core.api.pagination import PageNumberPagination


class CatalogPagination(PageNumberPagination):
    """``?page=N`` (and ``?page_size=N``, at most 100). A page past the end stays a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100
