"""Back office of the catalog, one module per concern: drugs and their clinical data, products
(tiers, "Receive a lot"), stock lots (read-only), review moderation."""

from . import drugs, products, reviews, stock  # noqa: F401
