"""Request parsers for the API (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

A module of its own, importing no DRF views: ``rest_framework.views`` reads
``DEFAULT_PARSER_CLASSES`` when it is imported, so the parsers must not import it back.
"""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus: a body nested too deeply for Python's decoder is a 400, not a 500.

    ``json`` raises ``RecursionError`` (not ``ValueError``) for ``[[[[...`` some thousand levels
    deep, which DRF's parser lets through. Every API view parses JSON with this class (it is
    ``DEFAULT_PARSER_CLASSES``'s JSON parser; views that list their parsers name it too).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from exc
