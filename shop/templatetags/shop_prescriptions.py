"""``{% order_prescriptions order user as rx %}``: the prescription panel's data for an order page."""

from django import template

from rx.access import patients_owned_by

from ..services.gating import order_rx_status
from ..services.prescriptions import LINKABLE

register = template.Library()


@register.simple_tag
def order_prescriptions(order, user):
    """``covers`` (one per prescription line: line, status, reasons, linked prescription id),
    ``patients`` the user may upload for, and ``linkable`` (prescriptions may still be added)."""
    return {
        "covers": order_rx_status(order=order),
        "patients": list(patients_owned_by(user).order_by("last_name", "first_name", "pk")),
        "linkable": order.status in LINKABLE,
    }
