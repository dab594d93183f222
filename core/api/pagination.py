"""The API's default pagination: a malformed ``?page=`` is a 400 naming it, not DRF's 404 "Invalid page."."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.request import Request
    from rest_framework.views import APIView


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N`` with N a whole number from 1 (or ``last``). ``0``, ``-1``, ``abc`` are a 400; a page past
    the end stays a 404. ``catalog.api.pagination.CatalogPagination`` subclasses this one."""

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and int(raw) >= 1):
                raise ValidationError({self.page_query_param: ["Must be a positive whole number."]})
        return super().paginate_queryset(queryset, request, view)
