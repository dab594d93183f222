"""Storefront pages of the shop, one module per page group: cart, checkout (address and card
pages), orders (the shopper's orders, cancel), prescriptions (upload for an order's lines)."""
