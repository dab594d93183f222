"""rx business rules, one module per concern. Services are the only writers of rx state."""
