"""Template helpers of the storefront: monograph text to HTML, price rows, stars.

None of them queries the database: they read what ``catalog.selectors`` prefetched (prices through
``catalog.services.quotes.product_pricing``).
"""

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from ..services.quotes import product_pricing

register = template.Library()

_HEADING = re.compile(r"^(#{2,4}) (.+)$")
_ITEM = re.compile(r"^( *)- (.+)$")


@register.filter
def monograph_html(body: str, top_level: int = 3):
    """Render a monograph body (see catalog/seed/baclofen.yaml) as escaped HTML.

    Paragraphs are separated by blank lines; "## " to "#### " are sub-headings one to three
    levels below the section's own heading (``top_level``); "- " items form a list, and items
    indented by two spaces nest under the item before them.
    """
    html = []
    for block in re.split(r"\n\s*\n", (body or "").strip()):
        lines = block.split("\n")
        heading = _HEADING.match(lines[0]) if len(lines) == 1 else None
        if heading:
            level = min(top_level + len(heading.group(1)) - 1, 6)
            html.append(f"<h{level}>{escape(heading.group(2).strip())}</h{level}>")
        elif all(_ITEM.match(line) for line in lines):
            html.append(_list_html(lines))
        else:
            html.append("<p>" + "<br>".join(escape(line.strip()) for line in lines) + "</p>")
    return mark_safe("\n".join(html))


def _list_html(lines: list[str]) -> str:
    out, depth = [], 0
    for line in lines:
        match = _ITEM.match(line)
        level = 1 + len(match.group(1)) // 2
        if level > depth:
            out.extend(["<ul>"] * (level - depth))
        else:
            out.append("</li>")
            out.extend(["</ul></li>"] * (depth - level))
        depth = level
        out.append("<li>" + escape(match.group(2).strip()))
    out.append("</li>")
    out.extend(["</ul></li>"] * (depth - 1))
    out.append("</ul>")
    return "".join(out)


@register.filter
def price_rows(product) -> list[dict]:
    """The tiers as rows with their quantity range: [{min, max (None: open), unit_price}]."""
    return [
        {"min": r.min_quantity, "max": r.max_quantity, "unit_price": r.unit_price}
        for r in product_pricing(product).ranges
    ]


@register.filter
def lowest_unit_price(product):
    return product_pricing(product).lowest_unit_price


@register.filter
def plural_unit(unit: str, count) -> str:
    """'tablet' -> 'tablets' unless ``count`` is 1."""
    try:
        one = int(count) == 1
    except (TypeError, ValueError):
        one = False
    return unit if one else f"{unit}s"


@register.simple_tag
def stars(rating):
    """Five stars filled in proportion to ``rating``, with a text alternative for screen readers."""
    try:
        value = max(0.0, min(5.0, float(rating or 0)))
    except (TypeError, ValueError):
        value = 0.0
    return format_html(
        '<span class="stars" role="img" aria-label="{} out of 5 stars" style="--stars-pct: {}%">'
        '<span aria-hidden="true">★★★★★</span></span>',
        f"{value:g}",
        f"{value * 20:g}",
    )
