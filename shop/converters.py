"""URL converters of the shop's pages and API.

``order_number``: any path segment except one holding a NUL byte. PostgreSQL text cannot hold
NUL, so looking such a "number" up raised a DataError (a 500); the URL now simply does not
resolve (404), like any other unknown order number.
"""

from django.urls import register_converter


class OrderNumberConverter:
    regex = "[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(OrderNumberConverter, "order_number")
