"""Shop API views, one module per resource: cart, checkout, orders, payments (and Stripe's webhook),
prescriptions (an order's prescription lines). Thin: parse, call a service, render."""
