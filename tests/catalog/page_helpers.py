"""Helpers for the catalog's page tests: the seed catalogue, and a page's visible text."""

import re
from io import StringIO

from django.core.management import call_command


def load_seed() -> None:
    call_command("load_seed_catalogue", stdout=StringIO())


def text(response) -> str:
    """The page's visible text with whitespace collapsed, so assertions read like the page."""
    html = response.content.decode()
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").replace("&amp;", "&")
