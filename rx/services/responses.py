"""Answering a pharmacist's request for information (status ``needs_information``).

Only those who may act for the patient (the shopper whose patient it is, or the clinic's staff)
may answer; anyone else gets 404. The answer is a ``PrescriptionResponse`` (immutable) with a
message and optionally a file, checked like an upload (``uploads.upload_validate``). A file
becomes the prescription's current document; the one it replaces stays in storage and is named
on the response. The prescription goes back to ``received`` (the queue), so a pharmacist opens
it again and the DUR findings are recomputed when review starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from core.errors import Conflict

from .. import access
from ..models import Prescription, PrescriptionResponse
from . import audit
from .prescriptions import prescription_transition
from .uploads import upload_validate

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files import File
    from django.http import HttpRequest

Status = Prescription.Status


class NotAwaitingInformation(Conflict):
    code = "not_awaiting_information"


def prescription_respond(
    *,
    user: User,
    prescription_id: int | str,
    message: str,
    file: File[bytes] | None = None,
    request: HttpRequest | None = None,
) -> PrescriptionResponse:
    """Record the owner's answer to a request for information and put the prescription back
    in the queue (needs_information -> received). Raises NotFound (404) for anyone but the
    patient's owner, ValidationError (400) on ``message`` or ``file``, NotAwaitingInformation
    (409, ``data["status"]``) when the prescription is not waiting for information."""
    rx = access.owned_prescription_for(user, prescription_id)
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": ["Write your answer to the pharmacist's question."]})
    if rx.status != Status.NEEDS_INFORMATION:
        raise NotAwaitingInformation(
            f"Only a prescription waiting for information can be answered; this one is "
            f"{rx.get_status_display().lower()}.",
            data={"status": rx.status},
        )
    stored, content_type = None, ""
    if file is not None:
        content_type, ext, data = upload_validate(file)
        stored = ContentFile(data, name=f"prescription.{ext}")
    with transaction.atomic():
        # The file field is not nullable: its name is "" when the prescription has no document.
        response = PrescriptionResponse(
            prescription=rx,
            author=user,
            message=message,
            file_content_type=content_type,
            replaced_file=cast(str, rx.file.name) if stored else "",
        )
        if stored is not None:
            response.file = stored
        response.save()
        if stored is not None:
            Prescription.objects.filter(pk=rx.pk).update(file=response.file.name, file_content_type=content_type)
        # Conditional on the status: a concurrent change makes this a 409 and rolls the answer back.
        prescription_transition(
            prescription=rx,
            to_status=Status.RECEIVED,
            actor=user,
            note="Information sent by the "
            + ("clinic" if rx.patient.clinic_id else "shopper")
            + (" with a new document." if stored else "."),
        )
        audit.audit_record(
            user=user,
            action=audit.Action.CHANGE,
            obj=rx,
            request=request,
            detail=f"response {response.pk} to information request" + (f" (file {content_type})" if stored else ""),
        )
    return response
