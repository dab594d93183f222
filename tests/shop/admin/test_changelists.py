"""Every shop changelist in the back office (orders, lines, payments, refunds, carts) answers in a fixed
number of queries as rows grow (Django's own select_related covers their FK columns)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.models import Cart, Payment, Refund
from tests.shop.fulfilment_helpers import make_order, make_product, make_user

pytestmark = pytest.mark.django_db


def _order_with_payment_and_refund(staff):
    user = make_user()
    order = make_order(user, {make_product(rx_required=False): 2})
    payment = Payment.objects.create(
        order=order, attempt=1, idempotency_key=f"pay:{order.number}", amount_cents=100, currency="usd"
    )
    Refund.objects.create(
        order=order, order_line=order.lines.get(), payment=payment, amount=Decimal("0.50"), created_by=staff
    )
    Cart.objects.create(user=user)


@pytest.mark.parametrize("model", ["order", "orderline", "payment", "refund", "cart"])
def test_admin_changelist_query_count_does_not_grow_with_rows(client, model, django_assert_max_num_queries):
    staff = make_user()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    url = reverse(f"admin:shop_{model}_changelist")
    _order_with_payment_and_refund(staff)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    baseline = len(ctx.captured_queries)
    for _ in range(4):
        _order_with_payment_and_refund(staff)
    with django_assert_max_num_queries(baseline):
        response = client.get(url)
    assert response.status_code == 200 and response.content.count(b'<th class="field-') >= 5
