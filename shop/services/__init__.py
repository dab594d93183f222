"""Shop business rules, one module per concern: cart, checkout, payments, webhooks, orders,
refunds, inventory, gating (is an order covered by prescriptions), stripe_gateway (every Stripe call)."""
