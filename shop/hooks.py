"""What the shop plugs into the lower apps' extension points (named in settings, loaded by
``core.extensions.hooks``): catalog's verified-purchase check, rx's self-verification check and the
review page's context."""

from django.urls import NoReverseMatch, reverse

from .models import OrderLinePrescription
from .services.gating import prescription_could_cover_orders_of
from .services.orders import user_has_received_product


def delivered_order_holds_product(*, user_id, product_id):
    """``CATALOG_PURCHASE_CHECKERS``: a review is a verified purchase after a delivery."""
    return user_has_received_product(user_id=user_id, product_id=product_id)


def pharmacist_placed_linked_order(prescription, user) -> bool:
    """``RX_SELF_VERIFICATION_CHECKS``: True (blocked) when ``user`` placed an order the prescription
    covers or could come to cover: linked to it, or (the gate's fallback) an open order with a line of
    the prescription's patient and drug."""
    if OrderLinePrescription.objects.filter(
        prescription_id=prescription.pk, order_line__order__user_id=user.pk
    ).exists():
        return True
    return prescription_could_cover_orders_of(prescription=prescription, user_id=user.pk)


def order_lines_waiting_on_prescription(prescription, user) -> dict:
    """``RX_REVIEW_CONTEXT_PROVIDERS``: the order lines linked to the prescription, with admin links."""
    links = (
        OrderLinePrescription.objects.filter(prescription_id=prescription.pk)
        .select_related("order_line__order")
        .order_by("order_line__order_id", "order_line_id")
    )
    rows = []
    for link in links:
        line, order = link.order_line, link.order_line.order
        try:
            url = reverse("admin:shop_order_change", args=[order.pk])
        except NoReverseMatch:
            url = ""
        rows.append(
            {
                "label": f"{order.number} line {line.pk}",
                "url": url,
                "detail": f"{line.quantity} x {line.product_name} ({order.get_status_display().lower()})",
            }
        )
    return {"title": "Order lines waiting on this prescription", "rows": rows}
