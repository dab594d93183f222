"""The pharmacist's decisions: approve, reject, request information.

Each decision is an immutable ``Decision`` plus a status transition, written in one
transaction; the e-mail to the shopper or clinic and the ``prescription_decided`` signal go
out after commit.

Extension points for higher apps (settings listing dotted paths; rx never imports those apps):

``RX_SELF_VERIFICATION_CHECKS``
    Callables ``(prescription, user) -> bool``. Return True when ``user`` must not verify
    ``prescription`` (e.g. the shop: "user placed an order that waits on it").

``RX_REVIEW_CONTEXT_PROVIDERS``
    Callables ``(prescription, user) -> dict | None`` returning
    ``{"title": str, "rows": [{"label": str, "url": str | None, "detail": str}]}`` shown on the
    admin review page (e.g. the shop: order lines waiting on this prescription).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound
from core.extensions import hooks

from .. import access, identifiers
from ..models import Decision, Finding, Prescription
from ..signals import prescription_decided
from . import audit
from .prescriptions import prescription_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

Status = Prescription.Status
Action = Decision.Action


class NotPharmacist(DomainError):
    status_code = 403
    code = "not_pharmacist"


class SelfVerificationForbidden(DomainError):
    status_code = 403
    code = "self_verification"


class OverrideReasonsRequired(DomainError):
    """Approval was asked while high-severity findings lack an override reason."""

    code = "override_reason_required"


def pharmacist_group() -> Group:
    """Return the Pharmacist group, creating it when missing."""
    group, _ = Group.objects.get_or_create(name=access.PHARMACIST_GROUP)
    return group


def prescription_verification_conflicts(*, prescription: Prescription, user: User | AnonymousUser) -> list[str]:
    """Return the reasons ``user`` may not verify ``prescription`` (empty: no conflict).

    The pharmacist's own patient record, a prescription they submitted, and whatever the
    ``RX_SELF_VERIFICATION_CHECKS`` report (an order they placed) are conflicts.
    """
    reasons = []
    if prescription.patient.account_id is not None and prescription.patient.account_id == user.pk:
        reasons.append("This is your own patient record.")
    if prescription.created_by_id is not None and prescription.created_by_id == user.pk:
        reasons.append("You submitted this prescription yourself.")
    if any(check(prescription, user) for check in hooks("RX_SELF_VERIFICATION_CHECKS")):
        reasons.append("You placed an order that relies on this prescription.")
    return reasons


def _decidable(*, prescription_id: int, pharmacist: User) -> Prescription:
    if not access.can_decide(pharmacist):
        raise NotPharmacist("Only pharmacists can decide on prescriptions.")
    try:
        rx = Prescription.objects.select_related(
            "patient__account", "patient__clinic", "drug", "product", "prescriber"
        ).get(pk=prescription_id)
    except (Prescription.DoesNotExist, TypeError, ValueError):
        raise NotFound("Prescription not found.") from None
    conflicts = prescription_verification_conflicts(prescription=rx, user=pharmacist)
    if conflicts:
        raise SelfVerificationForbidden(
            "Another pharmacist must verify this prescription. " + " ".join(conflicts), data={"reasons": conflicts}
        )
    if rx.status not in Prescription.QUEUE_STATUSES:
        raise Conflict(
            f"The prescription is already {rx.get_status_display().lower()}.",
            code="already_decided",
            data={"status": rx.status},
        )
    return rx


def prescription_approve(
    *,
    prescription_id: int,
    pharmacist: User,
    overrides: dict[int | str, str] | None = None,
    message: str = "",
    request: HttpRequest | None = None,
) -> Decision:
    """Approve a prescription. Every high-severity finding needs a reason in ``overrides``,
    keyed by finding id or by code ({12: "...", "HD": "..."}); reasons given for other
    findings are recorded too.

    Raises NotPharmacist (403), SelfVerificationForbidden (403), ValidationError naming the
    missing structured fields or, for a controlled drug, a prescriber without a valid DEA
    number (400), OverrideReasonsRequired (400, lists the findings).
    """
    rx = _approvable(prescription_id=prescription_id, pharmacist=pharmacist)
    overrides = {
        (int(k) if str(k).isdigit() else str(k).upper()): (v or "").strip() for k, v in (overrides or {}).items()
    }
    with transaction.atomic():
        if rx.status != Status.IN_REVIEW:
            prescription_transition(
                prescription=rx, to_status=Status.IN_REVIEW, actor=pharmacist, note="Taken into review to approve."
            )
        findings = list(Finding.objects.select_for_update().filter(prescription=rx).order_by("id"))

        def reason_for(f: Finding) -> str:
            return overrides.get(f.pk) or overrides.get(f.code) or ""

        lacking = [f for f in findings if f.severity == Finding.Severity.HIGH and not reason_for(f)]
        if lacking:
            raise OverrideReasonsRequired(
                "Every high-severity finding needs an override reason: "
                + "; ".join(f"{f.code} ({f.pk})" for f in lacking)
                + ".",
                data={"findings": [{"id": f.pk, "code": f.code, "message": f.message} for f in lacking]},
            )
        now = timezone.now()
        recorded = []
        for f in findings:
            reason = reason_for(f)
            if reason:
                f.overridden, f.override_reason, f.overridden_by, f.overridden_at = True, reason, pharmacist, now
                f.save(update_fields=["overridden", "override_reason", "overridden_by", "overridden_at"])
                recorded.append(
                    {"finding": f.pk, "code": f.code, "severity": f.severity, "message": f.message, "reason": reason}
                )
        decision = Decision.objects.create(
            prescription=rx,
            pharmacist=pharmacist,
            action=Action.APPROVE,
            message=message.strip(),
            overrides=recorded,
            created_at=now,
        )
        prescription_transition(prescription=rx, to_status=Status.APPROVED, actor=pharmacist, note="Approved.")
        _after_decision(rx, decision, request)
    return decision


def _approvable(*, prescription_id: int, pharmacist: User) -> Prescription:
    """The prescription ``pharmacist`` may decide, once it has every field approval needs."""
    rx = _decidable(prescription_id=prescription_id, pharmacist=pharmacist)
    missing = rx.missing_fields()
    if missing:
        raise ValidationError({name: ["Required before approval."] for name in missing})
    assert rx.prescriber is not None  # missing_fields() names an empty prescriber
    if rx.is_controlled and not identifiers.dea_is_valid(rx.prescriber.dea_number):
        # 21 CFR 1306.05: a controlled-substance prescription carries the prescriber's DEA number.
        raise ValidationError(
            {
                "prescriber": [
                    f"A Schedule {rx.schedule} prescription needs the prescriber's valid "
                    "DEA number; add it to the prescriber before approving."
                ]
            }
        )
    return rx


def prescription_reject(
    *, prescription_id: int, pharmacist: User, reason: str, request: HttpRequest | None = None
) -> Decision:
    """Reject a prescription with a reason the shopper sees."""
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Give the reason; the shopper sees it."]})
    rx = _decidable(prescription_id=prescription_id, pharmacist=pharmacist)
    with transaction.atomic():
        decision = Decision.objects.create(
            prescription=rx, pharmacist=pharmacist, action=Action.REJECT, message=reason.strip()
        )
        prescription_transition(prescription=rx, to_status=Status.REJECTED, actor=pharmacist, note=reason.strip())
        _after_decision(rx, decision, request)
    return decision


def prescription_request_information(
    *, prescription_id: int, pharmacist: User, message: str, request: HttpRequest | None = None
) -> Decision:
    """Ask the shopper or clinic for information; the prescription waits in needs_information."""
    if not (message or "").strip():
        raise ValidationError({"message": ["Say what information is needed."]})
    rx = _decidable(prescription_id=prescription_id, pharmacist=pharmacist)
    with transaction.atomic():
        if rx.status == Status.RECEIVED:
            prescription_transition(prescription=rx, to_status=Status.IN_REVIEW, actor=pharmacist)
        decision = Decision.objects.create(
            prescription=rx, pharmacist=pharmacist, action=Action.REQUEST_INFO, message=message.strip()
        )
        if rx.status != Status.NEEDS_INFORMATION:
            prescription_transition(
                prescription=rx, to_status=Status.NEEDS_INFORMATION, actor=pharmacist, note=message.strip()
            )
        _after_decision(rx, decision, request)
    return decision


def _after_decision(rx: Prescription, decision: Decision, request: HttpRequest | None) -> None:
    audit.audit_record(
        user=decision.pharmacist,
        action=audit.Action.CHANGE,
        obj=rx,
        request=request,
        detail=f"decision={decision.action}",
    )
    ids = (rx.pk, decision.pk, decision.action)
    transaction.on_commit(lambda: decision_notify(prescription_id=ids[0], decision_id=ids[1]))
    transaction.on_commit(
        lambda: prescription_decided.send(
            sender=Prescription, prescription_id=ids[0], decision_id=ids[1], action=ids[2]
        )
    )


def notification_recipients(rx: Prescription) -> list[str]:
    """The shopper (account e-mail) or the clinic (clinic e-mail, else the submitter's)."""
    patient = rx.patient
    if patient.account_id:
        assert patient.account is not None  # account_id is set
        return [patient.account.email] if patient.account.email else []
    emails = [patient.clinic.email] if patient.clinic and patient.clinic.email else []
    if not emails and rx.created_by is not None and rx.created_by.email:
        emails = [rx.created_by.email]
    return emails


SUBJECTS: dict[str, str] = {
    Action.APPROVE: "Your prescription {ref} was approved",
    Action.REJECT: "Your prescription {ref} could not be accepted",
    Action.REQUEST_INFO: "We need more information about prescription {ref}",
}


def decision_notify(*, prescription_id: int, decision_id: int) -> int:
    """E-mail the shopper or clinic about a decision; return the number of messages sent.

    Keeps the message minimal (no drug or diagnosis): the reference, the outcome and the
    pharmacist's reason or question, which the recipient needs to act.
    """
    decision = Decision.objects.select_related(
        "prescription__patient__account", "prescription__patient__clinic", "prescription__created_by"
    ).get(pk=decision_id)
    rx = decision.prescription
    recipients = notification_recipients(rx)
    if not recipients:
        return 0
    ref = f"RX-{rx.pk}"
    lines = [f"Hello {rx.patient.first_name if rx.patient.account_id else rx.patient.clinic},", ""]
    if decision.action == Action.APPROVE:
        lines.append(f"A pharmacist approved prescription {ref}. Orders waiting on it can now go ahead.")
    elif decision.action == Action.REJECT:
        lines += [f"A pharmacist could not accept prescription {ref}.", "", f"Reason: {decision.message}"]
    else:
        lines += [
            f"A pharmacist needs more information about prescription {ref}:",
            "",
            decision.message,
            "",
            "Reply to this e-mail or upload a new prescription from your account.",
        ]
    lines += ["", f"{settings.SITE_URL}"]
    return send_mail(
        SUBJECTS[decision.action].format(ref=ref), "\n".join(lines), settings.DEFAULT_FROM_EMAIL, recipients
    )


def prescription_review_panels(*, prescription: Prescription, user: User | AnonymousUser) -> list[dict[str, Any]]:
    """Return the panels the ``RX_REVIEW_CONTEXT_PROVIDERS`` add to the review page (empty ones left out)."""
    panels = (provider(prescription, user) for provider in hooks("RX_REVIEW_CONTEXT_PROVIDERS"))
    return [panel for panel in panels if panel]
