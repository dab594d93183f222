"""Carts, orders and their events, payments, shipments, refill-kit orders."""
