"""Helpers for the shop's page tests: a shipping address, the page's messages, the add-to-cart form."""

SHIPPING = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
    "country": "US",
}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def add(client, product, quantity, follow=False):
    """Post the product page's add-to-cart form."""
    return client.post("/cart/items/add/", {"product": product.ndc, "quantity": quantity}, follow=follow)
