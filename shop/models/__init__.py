"""shop models, one module per concern: orders (carts, orders, payments, refunds),
fulfilment (shipments, dispenses of order lines), kits (refill-kit orders and standing orders)."""

from .fulfilment import *  # noqa: F401,F403
from .kits import *  # noqa: F401,F403
from .orders import *  # noqa: F401,F403
