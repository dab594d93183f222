"""shop models, one module per concern: orders (carts, orders, payments, refunds),
fulfilment (shipments, dispenses of order lines)."""

from .fulfilment import *  # noqa: F401,F403
from .orders import *  # noqa: F401,F403
