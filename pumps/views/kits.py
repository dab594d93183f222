"""Clinic refill-kit page (namespace ``pumps:``): the clinic's kit orders and standing orders, and
forms to order a kit for a pump or set a standing order. Only the clinic's own staff see it
(everyone else gets 404, anonymous users the sign-in page: ``pumps.access``). Thin: ``pumps.services.kits``
decides."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from core.errors import DomainError, NotFound
from pumps import access
from pumps.models import Pump, StandingOrder
from pumps.selectors import clinic_kit_orders
from pumps.services.kits.cancel import kit_order_cancel
from pumps.services.kits.orders import kit_order_create, standing_order_set
from shop.services.checkout import SHIPPING_FIELDS


def _errors(exc) -> list[str]:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return [f"{name.replace('_', ' ')}: {m}" for name, msgs in exc.message_dict.items() for m in msgs]
    return [getattr(exc, "message", None) or str(exc)]


def clinic_kits(request, clinic_id):
    """List the clinic's kit orders; POST ``action=order`` orders a kit, ``action=standing`` sets a standing
    order, ``action=cancel`` (``kit_order``, ``reason``) cancels a kit not yet dispatched."""
    if not access.is_authenticated(request.user):
        return redirect_to_login(request.get_full_path())
    try:
        clinic = access.clinic_for_staff(request.user, clinic_id)
    except NotFound:
        raise Http404("Clinic not found.") from None
    pumps = list(
        Pump.objects.filter(patient__clinic=clinic, active=True).select_related("patient").order_by("ship_by", "pk")
    )
    errors = []
    if request.method == "POST" and request.POST.get("action") == "cancel":
        kit_id = request.POST.get("kit_order", "")
        kit = clinic_kit_orders(clinic).filter(pk=int(kit_id)).first() if kit_id.isdigit() else None
        if kit is None:
            errors = ["kit order: choose one of this clinic's kit orders."]
        else:
            try:
                kit_order_cancel(kit_order_id=kit.pk, user=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, f"Kit order {kit.pk} cancelled; its invoice is voided.")
                return redirect("pumps:clinic-kits", clinic_id=clinic.pk)
            except (ValidationError, DomainError) as exc:
                errors = _errors(exc)
    elif request.method == "POST":
        pump = next((p for p in pumps if str(p.pk) == request.POST.get("pump", "")), None)
        shipping = {f: request.POST.get(f"shipping_{f}", "") for f in SHIPPING_FIELDS}
        if pump is None:
            errors = ["pump: choose one of this clinic's pumps."]
        else:
            try:
                if request.POST.get("action") == "standing":
                    standing_order_set(
                        pump=pump, user=request.user, shipping=shipping, active=request.POST.get("active") == "on"
                    )
                    messages.success(request, f"Standing order for pump #{pump.serial_number} saved.")
                else:
                    kit = kit_order_create(pump=pump, user=request.user, shipping=shipping)
                    messages.success(
                        request,
                        f"Kit ordered for pump #{pump.serial_number} (kit order {kit.pk}); "
                        "it is invoiced to the clinic account.",
                    )
                return redirect("pumps:clinic-kits", clinic_id=clinic.pk)
            except (ValidationError, DomainError) as exc:
                errors = _errors(exc)
    standing = {s.pump_id: s for s in StandingOrder.objects.filter(clinic=clinic)}
    return render(
        request,
        "pumps/clinic_kits.html",
        {
            "clinic": clinic,
            "kit_orders": clinic_kit_orders(clinic).select_related("pump", "patient"),
            "pumps": [(p, standing.get(p.pk)) for p in pumps],
            "errors": errors,
            "form": request.POST,
        },
        status=400 if errors else 200,
    )
