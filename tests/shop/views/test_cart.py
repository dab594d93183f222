"""Storefront cart pages (shop.views.cart): the product page's add-to-cart form, the cart, changing
and removing lines."""

import pytest
from django.urls import reverse

from shop.models import CartLine
from tests.shop.page_helpers import add, messages_of

pytestmark = pytest.mark.django_db


def test_the_product_page_form_adds_to_the_cart_and_leads_to_the_cart(client, make_product):
    product = make_product(on_hand=100)
    page = client.get(product.get_absolute_url()).content.decode()
    assert 'action="/cart/items/add/" id="add-to-cart"' in page
    response = add(client, product, 3)
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    cart_page = client.get(reverse("shop:cart"))
    assert f"Added 3 × {product.name} to your cart." in messages_of(cart_page)
    body = cart_page.content.decode()
    assert product.name in body and 'value="3"' in body and "$1.50" in body
    assert CartLine.objects.get().quantity == 3


def test_adding_more_than_is_available_says_how_many_are_left_and_saves_nothing(client, make_product):
    product = make_product(on_hand=5)
    response = add(client, product, 6, follow=True)
    assert response.redirect_chain[-1][0] == product.get_absolute_url()
    assert any("Only 5 of" in m and "left" in m for m in messages_of(response))
    assert not CartLine.objects.exists()
    add(client, product, 4)
    response = add(client, product, 2, follow=True)  # 4 + 2 > 5
    assert any("Only 5 of" in m for m in messages_of(response))
    assert CartLine.objects.get().quantity == 4


@pytest.mark.parametrize("quantity", ["0", "-2", "abc", "1.5", ""])
def test_a_bad_quantity_is_refused_with_a_message_on_the_product_page(client, make_product, quantity):
    product = make_product()
    response = add(client, product, quantity, follow=True)
    assert response.redirect_chain[-1][0] == product.get_absolute_url()
    assert any(m.startswith("Not added to your cart.") for m in messages_of(response))
    assert not CartLine.objects.exists()


def test_an_unknown_product_is_refused_without_an_error_page(client):
    response = client.post("/cart/items/add/", {"product": "99999999999", "quantity": 1}, follow=True)
    assert response.status_code == 200
    assert "That product is not sold here." in messages_of(response)
    assert not CartLine.objects.exists()


def test_the_cart_reprices_a_line_when_its_quantity_changes_and_removes_lines(client, make_product):
    product = make_product(on_hand=200)  # tiers 1: 0.50, 30: 0.45, 90: 0.40
    add(client, product, 29)
    body = client.get(reverse("shop:cart")).content.decode()
    assert "$0.50 / tablet" in body and "$14.50" in body
    line = CartLine.objects.get()
    client.post(reverse("shop:cart-item-update", args=[line.pk]), {"quantity": 30})
    body = client.get(reverse("shop:cart")).content.decode()
    assert "$0.45 / tablet" in body and '<strong id="cart-total">$13.50</strong>' in body

    response = client.post(reverse("shop:cart-item-update", args=[line.pk]), {"quantity": 500}, follow=True)
    assert any("Only 200 of" in m for m in messages_of(response))
    assert CartLine.objects.get().quantity == 30

    client.post(reverse("shop:cart-item-remove", args=[line.pk]))
    assert not CartLine.objects.exists()
    assert "Your cart is empty." in client.get(reverse("shop:cart")).content.decode()


def test_another_carts_line_cannot_be_changed(client, make_product, make_user):
    product = make_product()
    other = make_user()
    from shop.services.cart import cart_add, cart_for_user

    line = cart_add(cart=cart_for_user(user=other), product=product, quantity=2)
    client.force_login(make_user())
    assert client.post(reverse("shop:cart-item-update", args=[line.pk]), {"quantity": 5}).status_code == 404
    assert client.post(reverse("shop:cart-item-remove", args=[line.pk])).status_code == 404
    line.refresh_from_db()
    assert line.quantity == 2
