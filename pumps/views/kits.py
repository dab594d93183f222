"""Clinic refill-kit page (namespace ``pumps:``): the clinic's kit orders and standing orders, and
forms to order a kit for a pump or set a standing order. Only the clinic's own staff see it
(everyone else gets 404, anonymous users the sign-in page: ``pumps.access``). Thin: ``pumps.services.kits``
decides."""

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from core.errors import DomainError, NotFound
from pumps import access
from pumps.forms import KitCancelForm, KitOrderForm
from pumps.models import Pump, StandingOrder
from pumps.selectors import clinic_kit_orders
from pumps.services.kits.cancel import kit_order_cancel
from pumps.services.kits.orders import kit_order_create, standing_order_set


def _errors(exc) -> list[str]:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return [f"{name.replace('_', ' ')}: {m}" for name, msgs in exc.message_dict.items() for m in msgs]
    return [getattr(exc, "message", None) or str(exc)]


def _form_errors(form: forms.Form) -> list[str]:
    return [f"{name.replace('_', ' ')}: {m}" for name, msgs in form.errors.items() for m in msgs]


def _cancel(request, clinic) -> tuple[HttpResponse | None, list[str]]:
    form = KitCancelForm(request.POST, kit_orders=clinic_kit_orders(clinic))
    if not form.is_valid():
        return None, _form_errors(form)
    kit = form.cleaned_data["kit_order"]
    try:
        kit_order_cancel(kit_order_id=kit.pk, user=request.user, reason=form.cleaned_data["reason"])
    except (ValidationError, DomainError) as exc:
        return None, _errors(exc)
    messages.success(request, f"Kit order {kit.pk} cancelled; its invoice is voided.")
    return redirect("pumps:clinic-kits", clinic_id=clinic.pk), []


def _order(request, clinic, form: KitOrderForm) -> tuple[HttpResponse | None, list[str]]:
    if not form.is_valid():
        return None, _form_errors(form)
    pump, shipping = form.cleaned_data["pump"], form.shipping()
    try:
        if request.POST.get("action") == "standing":
            standing_order_set(pump=pump, user=request.user, shipping=shipping, active=form.cleaned_data["active"])
            messages.success(request, f"Standing order for pump #{pump.serial_number} saved.")
        else:
            kit = kit_order_create(pump=pump, user=request.user, shipping=shipping)
            messages.success(
                request,
                f"Kit ordered for pump #{pump.serial_number} (kit order {kit.pk}); "
                "it is invoiced to the clinic account.",
            )
    except (ValidationError, DomainError) as exc:
        return None, _errors(exc)
    return redirect("pumps:clinic-kits", clinic_id=clinic.pk), []


def clinic_kits(request, clinic_id):
    """List the clinic's kit orders; POST ``action=order`` orders a kit, ``action=standing`` sets a standing
    order, ``action=cancel`` (``kit_order``, ``reason``) cancels a kit not yet dispatched. Every post goes
    through a form (``pumps.forms``); a refused one shows its errors on the page (400)."""
    if not access.is_authenticated(request.user):
        return redirect_to_login(request.get_full_path())
    try:
        clinic = access.clinic_for_staff(request.user, clinic_id)
    except NotFound:
        raise Http404("Clinic not found.") from None
    clinic_pumps = (
        Pump.objects.filter(patient__clinic=clinic, active=True).select_related("patient").order_by("ship_by", "pk")
    )
    form = KitOrderForm(request.POST if request.method == "POST" else None, pumps=clinic_pumps)
    errors: list[str] = []
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            done, errors = _cancel(request, clinic)
        else:
            done, errors = _order(request, clinic, form)
        if done is not None:
            return done
    standing = {s.pump_id: s for s in StandingOrder.objects.filter(clinic=clinic)}
    return render(
        request,
        "pumps/clinic_kits.html",
        {
            "clinic": clinic,
            "kit_orders": clinic_kit_orders(clinic).select_related("pump", "patient"),
            "pumps": [(p, standing.get(p.pk)) for p in clinic_pumps],
            "errors": errors,
            "form": form,
        },
        status=400 if errors else 200,
    )
