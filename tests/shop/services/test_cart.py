"""Cart: tier pricing at the line's quantity, repricing, availability refusals, anonymous carts and merging."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import PriceTier, Product
from shop.models import Cart, CartLine, Order
from shop.services.cart import MAX_QUANTITY, cart_merge

CART = reverse("shop-api:cart")
ITEMS = reverse("shop-api:cart-items")


def item(line_id):
    return reverse("shop-api:cart-item", args=[line_id])


def add(client, product, quantity) -> int:
    """Add to the cart; return the line's id."""
    response = client.post(ITEMS, {"product": product.ndc, "quantity": quantity}, format="json")
    assert response.status_code == 201
    return next(line["id"] for line in response.json()["lines"] if line["product"]["ndc"] == product.ndc)


@pytest.mark.django_db
def test_line_is_priced_by_the_tier_its_quantity_falls_in(shopper_client, make_product):
    product = make_product(on_hand=200)
    response = shopper_client.post(ITEMS, {"product": product.ndc, "quantity": 29}, format="json")
    assert response.status_code == 201
    line = response.json()["lines"][0]
    assert (line["quantity"], line["unit_price"], line["line_total"]) == (29, "0.50", "14.50")
    assert response.json()["subtotal"] == "14.50"


@pytest.mark.django_db
def test_changing_the_quantity_reprices_the_line(shopper_client, make_product):
    product = make_product(on_hand=200)
    line_id = add(shopper_client, product, 10)
    response = shopper_client.patch(item(line_id), {"quantity": 90}, format="json")
    assert response.status_code == 200
    line = response.json()["lines"][0]
    assert (line["quantity"], line["unit_price"], line["line_total"]) == (90, "0.40", "36.00")
    # Adding to an existing line reprices the whole line at the new quantity.
    shopper_client.patch(item(line_id), {"quantity": 20}, format="json")
    response = shopper_client.post(ITEMS, {"product": product.ndc, "quantity": 10}, format="json")
    assert response.json()["lines"][0]["unit_price"] == "0.45"
    assert response.json()["lines"][0]["line_total"] == "13.50"


@pytest.mark.django_db
def test_cart_shows_current_tier_prices_until_checkout_freezes_them(shopper_client, make_product):
    product = make_product(on_hand=200)
    shopper_client.post(ITEMS, {"product": product.ndc, "quantity": 5}, format="json")
    PriceTier.objects.filter(product=product, min_quantity=1).update(unit_price=Decimal("0.55"))
    assert shopper_client.get(CART).json()["lines"][0]["unit_price"] == "0.55"


@pytest.mark.django_db
def test_a_schedule_checkout_would_refuse_is_refused_by_the_cart_too(shopper_client, make_product):
    # A tier covers 20 units, but nothing prices 1 to 9: not a valid schedule, so it is not sold.
    product = make_product(on_hand=50, tiers=((10, "0.45"),))
    response = shopper_client.post(ITEMS, {"product": product.ndc, "quantity": 20}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "product_unavailable"
    assert response.json()["detail"] == f"{product.name} has no price for this quantity."
    assert not CartLine.objects.exists()


@pytest.mark.django_db
def test_a_line_whose_schedule_is_no_longer_valid_is_shown_without_a_price(shopper_client, make_product):
    product = make_product(on_hand=50)
    add(shopper_client, product, 40)
    PriceTier.objects.filter(product=product, min_quantity=1).delete()  # 30+ still covers 40
    cart = shopper_client.get(CART).json()
    assert (cart["lines"][0]["unit_price"], cart["lines"][0]["line_total"], cart["subtotal"]) == (None, None, "0.00")


@pytest.mark.django_db
def test_adding_more_than_available_is_refused_saying_how_many_are_left(shopper_client, make_product):
    product = make_product(on_hand=7)
    shopper_client.post(ITEMS, {"product": product.ndc, "quantity": 5}, format="json")
    response = shopper_client.post(ITEMS, {"product": product.ndc, "quantity": 3}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["available"] == 7
    assert "Only 7" in body["detail"] and "left" in body["detail"]
    assert CartLine.objects.get().quantity == 5


@pytest.mark.django_db
def test_raising_a_line_above_availability_is_refused_and_the_line_is_unchanged(shopper_client, make_product):
    product = make_product(on_hand=7)
    line_id = add(shopper_client, product, 2)
    response = shopper_client.patch(item(line_id), {"quantity": 8}, format="json")
    assert response.status_code == 409
    assert response.json()["available"] == 7
    assert CartLine.objects.get().quantity == 2


@pytest.mark.django_db
def test_out_of_stock_product_is_refused_plainly(shopper_client, make_product):
    product = make_product(on_hand=0)
    response = shopper_client.post(ITEMS, {"product": product.ndc, "quantity": 1}, format="json")
    assert response.status_code == 409
    assert "out of stock" in response.json()["detail"]
    assert not CartLine.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"product": "123", "quantity": 1}, "product"),
        ({"product": "00832102400", "quantity": 0}, "quantity"),
        ({"product": "00832102400", "quantity": "two"}, "quantity"),
        ({"product": "00832102400", "quantity": 1.5}, "quantity"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(shopper_client, payload, field):
    response = shopper_client.post(ITEMS, payload, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)
    assert not CartLine.objects.exists()


@pytest.mark.django_db
def test_unknown_product_is_a_400_naming_the_product(shopper_client):
    response = shopper_client.post(ITEMS, {"product": "00000-0000-00", "quantity": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("product")


@pytest.mark.django_db
def test_hyphenated_ndc_is_accepted(shopper_client, make_product):
    product = make_product(ndc="00832102400", on_hand=5)
    response = shopper_client.post(ITEMS, {"product": "00832-1024-00", "quantity": 1}, format="json")
    assert response.status_code == 201
    assert response.json()["lines"][0]["product"]["ndc"] == product.ndc


@pytest.mark.django_db
def test_removing_a_line(shopper_client, make_product):
    product = make_product(on_hand=5)
    line_id = add(shopper_client, product, 1)
    response = shopper_client.delete(item(line_id))
    assert response.status_code == 200
    assert response.json()["lines"] == []


@pytest.mark.django_db
def test_another_shoppers_line_is_404(shopper_client, make_user, api_client_for, make_product):
    product = make_product(on_hand=5)
    line_id = add(shopper_client, product, 1)
    other = api_client_for(make_user())
    assert other.patch(item(line_id), {"quantity": 2}, format="json").status_code == 404
    assert other.delete(item(line_id)).status_code == 404
    assert CartLine.objects.get().quantity == 1


@pytest.mark.django_db
def test_anonymous_cart_lives_in_the_session_and_merges_into_the_account_cart_at_sign_in(make_user, make_product):
    a = make_product(on_hand=50)
    b = make_product(on_hand=50)
    user = make_user()
    # The account already holds some of product a.
    own = Cart.objects.create(user=user)
    CartLine.objects.create(cart=own, product=a, quantity=2)

    browser = Client()
    assert browser.post(ITEMS, {"product": a.ndc, "quantity": 3}, content_type="application/json").status_code == 201
    assert browser.post(ITEMS, {"product": b.ndc, "quantity": 1}, content_type="application/json").status_code == 201
    assert browser.get(CART).json()["quantity"] == 4
    assert Client().get(CART).json()["lines"] == []  # another session sees its own, empty cart

    browser.login(username=user.username, password="pw-For-tests-1")

    cart = browser.get(CART).json()
    assert {(line["product"]["ndc"], line["quantity"]) for line in cart["lines"]} == {(a.ndc, 5), (b.ndc, 1)}
    assert Cart.objects.count() == 1  # the anonymous cart is gone


@pytest.mark.django_db
def test_anonymous_shopper_cannot_check_out(make_product):
    browser = Client()
    product = make_product(on_hand=5)
    browser.post(ITEMS, {"product": product.ndc, "quantity": 1}, content_type="application/json")
    response = browser.post(reverse("shop-api:checkout"), {}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


@pytest.mark.django_db
def test_a_refill_kit_is_sold_to_clinics_only_not_added_through_the_api_or_the_page(
    shopper, shopper_client, make_product
):
    kit = make_product(rx_required=True, name="Intrathecal refill kit")
    Product.objects.filter(pk=kit.pk).update(is_refill_kit=True)

    response = shopper_client.post(ITEMS, {"product": kit.ndc, "quantity": 1}, format="json")
    page = Client()
    page.force_login(shopper)
    shown = page.post(reverse("shop:cart-item-add"), {"product": kit.ndc, "quantity": 1}, follow=True)

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "clinic_only_product"
    assert response.json()["detail"].startswith("product:") and kit.name in response.json()["detail"]
    assert "clinics only" in " ".join(str(m) for m in shown.context["messages"])
    assert not CartLine.objects.exists()


@pytest.mark.django_db
def test_checkout_refuses_a_refill_kit_already_in_the_cart(shopper, shopper_client, make_product, shipping):
    kit = make_product(rx_required=True, name="Intrathecal refill kit")
    CartLine.objects.create(cart=Cart.objects.create(user=shopper), product=kit, quantity=1)  # before the rule
    Product.objects.filter(pk=kit.pk).update(is_refill_kit=True)

    response = shopper_client.post(reverse("shop-api:checkout"), shipping, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "clinic_only_product" and kit.name in response.json()["detail"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_merging_at_sign_in_never_lifts_a_line_past_the_cap_and_says_so(make_user, make_product):
    capped = make_product(on_hand=20_000, name="Baclofen 10 mg tablet")
    other = make_product(on_hand=20_000)
    user = make_user()
    own = Cart.objects.create(user=user)
    CartLine.objects.create(cart=own, product=capped, quantity=6_000)
    CartLine.objects.create(cart=own, product=other, quantity=4_000)

    browser = Client()
    for product, quantity in ((capped, 6_000), (other, 6_000)):
        response = browser.post(ITEMS, {"product": product.ndc, "quantity": quantity}, content_type="application/json")
        assert response.status_code == 201
    response = browser.post(
        reverse("login"), {"username": user.username, "password": "pw-For-tests-1", "next": "/cart/"}, follow=True
    )

    assert response.status_code == 200
    lines = dict(CartLine.objects.filter(cart__user=user).values_list("product_id", "quantity"))
    assert lines == {capped.pk: MAX_QUANTITY, other.pk: MAX_QUANTITY}  # 12,000 capped; exactly 10,000 kept
    notes = [str(m) for m in response.context["messages"]]
    assert notes == [
        f"Your cart already held Baclofen 10 mg tablet: with what you added before signing in it came to 12000, "
        f"so the line holds {MAX_QUANTITY}, the most one line can hold."
    ]


@pytest.mark.django_db
def test_cart_merge_reports_the_lines_it_capped(make_user, make_product):
    product = make_product(on_hand=20_000)
    target = Cart.objects.create(user=make_user())
    source = Cart.objects.create()
    CartLine.objects.create(cart=target, product=product, quantity=MAX_QUANTITY)
    CartLine.objects.create(cart=source, product=product, quantity=1)

    merged = cart_merge(source=source, target=target)

    assert merged.cart == target
    assert [(line.product, line.combined) for line in merged.capped] == [(product, MAX_QUANTITY + 1)]
    assert target.lines.get().quantity == MAX_QUANTITY
    assert not Cart.objects.filter(pk=source.pk).exists()
