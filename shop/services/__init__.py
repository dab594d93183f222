"""Shop business rules, one module per concern: cart, checkout, payments, webhooks, transitions (the
one writer of an order's status), orders (cancel, ship, deliver), refunds, inventory, gating (is an
order covered by prescriptions), prescriptions (linking them to order lines), fulfilment,
stripe_gateway (every Stripe call)."""
