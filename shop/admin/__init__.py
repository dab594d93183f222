"""The shop's back office, one module per concern: orders (actions calling the services, line
refunds), payments (Stripe events, payments, refunds; read-only), carts (read-only)."""

from . import carts, orders, payments  # noqa: F401
