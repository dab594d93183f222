"""Storefront: upload a prescription for an order's prescription lines (form on the order page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound

from ..access import order_for_user
from ..forms import PrescriptionUploadForm
from ..services.prescriptions import order_prescription_upload


@login_required
@require_POST
def order_prescription_upload_view(request, number):
    try:
        order = order_for_user(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    line_ids = list(order.lines.filter(rx_required=True).values_list("pk", flat=True))
    form = PrescriptionUploadForm(request.POST, request.FILES, line_ids=line_ids)
    target = redirect("shop:order-detail", number=order.number)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"The prescription was not uploaded. {field}: {errors[0]}")
        return target
    try:
        order_prescription_upload(
            user=request.user,
            number=order.number,
            patient_id=form.cleaned_data["patient"],
            file=form.cleaned_data["file"],
            line_ids=form.cleaned_data["lines"] or None,
            request=request,
        )
    except NotFound:
        messages.error(request, "The prescription was not uploaded. patient: choose one of your patients.")
    except DomainError as exc:
        messages.error(request, f"The prescription was not uploaded. {exc.message}")
    except ValidationError as exc:  # the upload's checks (type by content, size)
        messages.error(request, "The prescription was not uploaded. " + " ".join(exc.messages))
    else:
        messages.success(request, "Prescription uploaded. A pharmacist will verify it.")
    return target
