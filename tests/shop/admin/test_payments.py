"""Back office for Stripe's records (shop.admin.payments): shown, never edited."""

import pytest
from django.urls import reverse

from shop.models import Order, PaymentDiscrepancy, StripeEvent


@pytest.mark.django_db
def test_stripe_events_are_read_only(admin_client):
    event = StripeEvent.objects.create(event_id="evt_1", type="customer.created", payload={})
    assert admin_client.get(reverse("admin:shop_stripeevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:shop_stripeevent_add")).status_code == 403
    response = admin_client.post(reverse("admin:shop_stripeevent_change", args=[event.pk]), {"type": "x"})
    assert response.status_code == 403
    assert StripeEvent.objects.get().type == "customer.created"


@pytest.mark.django_db
def test_payment_discrepancies_are_listed_read_only(
    admin_client, localstripe, shopper_client, make_product, checkout_order
):
    order = Order.objects.get(number=checkout_order(shopper_client, {make_product(on_hand=5): 1})["number"])
    discrepancy = PaymentDiscrepancy.objects.create(
        event_id="evt_odd",
        order=order,
        stripe_payment_intent_id="pi_odd",
        kind="amount",
        expected="50 usd",
        received="1 usd",
    )
    response = admin_client.get(reverse("admin:shop_paymentdiscrepancy_changelist"))
    assert response.status_code == 200 and b"pi_odd" in response.content
    assert admin_client.get(reverse("admin:shop_paymentdiscrepancy_change", args=[discrepancy.pk])).status_code == 200
    assert admin_client.get(reverse("admin:shop_paymentdiscrepancy_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:shop_paymentdiscrepancy_change", args=[discrepancy.pk]), {"kind": "currency"}
    )
    assert response.status_code == 403
    assert PaymentDiscrepancy.objects.get().kind == "amount"
