"""Back office for Stripe's records (shop.admin.payments): shown, never edited."""

import pytest
from django.urls import reverse

from shop.models import StripeEvent


@pytest.mark.django_db
def test_stripe_events_are_read_only(admin_client):
    event = StripeEvent.objects.create(event_id="evt_1", type="customer.created", payload={})
    assert admin_client.get(reverse("admin:shop_stripeevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:shop_stripeevent_add")).status_code == 403
    response = admin_client.post(reverse("admin:shop_stripeevent_change", args=[event.pk]), {"type": "x"})
    assert response.status_code == 403
    assert StripeEvent.objects.get().type == "customer.created"
