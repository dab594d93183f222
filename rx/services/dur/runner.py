"""Run every DUR check on a prescription (``dur_check``) and store the findings
(``prescription_findings_refresh``)."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from catalog.models import DrugRoute
from core.shipping import pharmacy_today

from ...models import Finding, Prescription
from .dosing import age_check, daily_dose_of, dose_checks, quantity_check, renal_check
from .findings import FindingData
from .medications import current_medications, duplication_checks, interaction_checks
from .patient import allergy_check, pregnancy_and_lactation
from .record import early_refill_check, expiry_and_refill_checks, post_dated_check, prescriber_checks


@dataclass(frozen=True)
class DurContext:
    """What the check runs against: the day (default: the pharmacy's calendar day, in
    ``PHARMACY_TIME_ZONE``, at ``now``, default the current moment), and optionally the reference
    of the order line asking for the fill (its own dispense, if any, is not counted as an earlier
    fill)."""

    today: date | None = None
    reference: str = ""
    now: datetime | None = None


def dur_check(
    *, prescription: Prescription, quantity: int | None = None, context: DurContext | None = None
) -> list[FindingData]:
    """Return the DUR findings for ``prescription``, for a fill of ``quantity`` units
    (default: the quantity per fill) in ``context`` (default: today).

    Checks that lack the data they need (an upload not transcribed yet) are skipped; approval
    separately requires the structured fields.
    """
    context = context or DurContext()
    today = context.today or pharmacy_today(context.now)
    findings: list[FindingData] = []
    findings += prescriber_checks(prescription)
    findings += expiry_and_refill_checks(prescription, today)
    findings += post_dated_check(prescription, today)
    if not prescription.drug_id:
        return findings
    drug = prescription.drug
    assert drug is not None  # drug_id is set
    patient = prescription.patient
    limit = DrugRoute.objects.filter(drug=drug, route=prescription.route).first() if prescription.route else None
    daily = daily_dose_of(prescription, limit)
    findings += dose_checks(prescription, limit, daily)
    findings += age_check(prescription, patient, limit, today)
    findings += renal_check(prescription, patient, limit, daily)
    findings += pregnancy_and_lactation(drug, patient)
    findings += allergy_check(drug, patient)
    meds = current_medications(patient=patient, exclude_prescription_id=prescription.pk, today=today)
    interactions = interaction_checks(prescription, meds)
    findings += interactions
    already = {f.data.get("with") for f in interactions if f.code == "TD"}
    findings += duplication_checks(prescription, [m for m in meds if m.label not in already])
    findings += early_refill_check(prescription, today, context.reference)
    findings += quantity_check(prescription, quantity, daily)
    return findings


def prescription_findings_refresh(*, prescription: Prescription, context: DurContext | None = None) -> list[Finding]:
    """Recompute and store the findings of ``prescription`` (replacing the previous ones)."""
    data = dur_check(prescription=prescription, context=context)
    with transaction.atomic():
        prescription.findings.all().delete()
        return Finding.objects.bulk_create(
            [
                Finding(prescription=prescription, code=f.code, severity=f.severity, message=f.message, data=f.data)
                for f in data
            ]
        )
