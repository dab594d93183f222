"""DUR checks on the prescription as a record: the prescriber's numbers (PN), expiry (XP), refills
beyond the schedule's limit (RL), post-dating (PD) and early refills (ER), on the pharmacy's
calendar day (``core.shipping.pharmacy_today``)."""

from datetime import date, timedelta
from decimal import Decimal
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Q

from core.shipping import pharmacy_today

from ... import identifiers
from ...models import Dispense, Prescription
from ...models.prescriptions import legal_max_refills
from .findings import HIGH, LOW, MODERATE, FindingData


def prescriber_checks(rx: Prescription) -> list[FindingData]:
    prescriber = rx.prescriber
    if prescriber is None:
        return []
    out = []
    if not prescriber.npi:
        out.append(
            FindingData(
                "PN",
                HIGH,
                f"Prescriber {prescriber.name} has no NPI on file; look it up in "
                "NPPES or ask the prescriber before approving.",
                {"field": "npi"},
            )
        )
    elif not identifiers.npi_is_valid(prescriber.npi):
        out.append(
            FindingData(
                "PN",
                HIGH,
                f"Prescriber NPI {prescriber.npi} fails its check digit; confirm the "
                "number with the prescriber (NPPES) before approving.",
                {"field": "npi"},
            )
        )
    if rx.is_controlled:
        if not prescriber.dea_number:
            out.append(
                FindingData(
                    "PN",
                    HIGH,
                    f"Schedule {rx.schedule} prescription without the prescriber's DEA "
                    "number; obtain it before dispensing.",
                    {"field": "dea_number"},
                )
            )
        elif not identifiers.dea_is_valid(prescriber.dea_number):
            out.append(
                FindingData(
                    "PN",
                    HIGH,
                    f"DEA number {prescriber.dea_number} fails its checksum; verify the "
                    "registration with the prescriber.",
                    {"field": "dea_number"},
                )
            )
        elif not identifiers.dea_matches_surname(prescriber.dea_number, identifiers.surname_of(prescriber.name)):
            out.append(
                FindingData(
                    "PN",
                    LOW,
                    f"DEA number {prescriber.dea_number}: the second letter is not the "
                    f"initial of {prescriber.name}'s surname; check the registration.",
                    {"field": "dea_number"},
                )
            )
    return out


def expiry_and_refill_checks(rx: Prescription, today: date) -> list[FindingData]:
    out = []
    if rx.is_expired_on(today):
        assert rx.expires_on is not None  # is_expired_on() is False without an expiry date
        out.append(
            FindingData(
                "XP",
                HIGH,
                f"Prescription expired on {rx.expires_on:%Y-%m-%d} (written "
                f"{rx.written_date:%Y-%m-%d}); a new prescription is needed.",
                {"expires_on": rx.expires_on.isoformat()},
            )
        )
    limit = legal_max_refills(rx.schedule)
    if limit is not None and rx.refills_authorized > limit:
        allowed = "no refills" if limit == 0 else f"at most {limit} refills within 6 months of the written date"
        out.append(
            FindingData(
                "RL",
                HIGH,
                f"Schedule {rx.schedule} allows {allowed} (21 CFR 1306); {rx.refills_authorized} were written. Only "
                f"{limit + 1} fill(s) can be dispensed; ask the prescriber for a new prescription for the rest.",
                {"refills_authorized": rx.refills_authorized, "legal_max": limit},
            )
        )
    return out


def post_dated_check(rx: Prescription, today: date) -> list[FindingData]:
    """PD when the written date is after the pharmacy's today: high for a controlled drug (a
    prescription is dated as of the day it is signed, 21 CFR 1306.05(a)), moderate otherwise."""
    if rx.written_date is None or rx.written_date <= today:
        return []
    days = (rx.written_date - today).days
    written = f"Written date {rx.written_date:%Y-%m-%d} is in the future ({days} day(s) from today)"
    if rx.is_controlled:
        severity = HIGH
        message = (
            f"{written}: a Schedule {rx.schedule} prescription must be dated as of the day it is signed "
            "(21 CFR 1306.05(a)); a post-dated prescription cannot be dispensed. Ask the prescriber for a "
            "correctly dated one."
        )
    else:
        severity = MODERATE
        message = f"{written}; confirm the date with the prescriber before dispensing."
    return [FindingData("PD", severity, message, {"written_date": rx.written_date.isoformat()})]


def refill_due(fill: Dispense) -> date:
    """The pharmacy's day on which the threshold share of ``fill``'s days supply is used up."""
    threshold = Decimal(str(settings.RX_EARLY_REFILL_THRESHOLD))
    due_days = int((Decimal(fill.days_supply) * threshold).to_integral_value(rounding="ROUND_CEILING"))
    return pharmacy_today(fill.effective_at) + timedelta(days=due_days)


def early_refill_check(rx: Prescription, today: date, reference: str) -> list[FindingData]:
    """ER when the patient still holds a fill of the drug: from this prescription, or from another
    of theirs for the same drug by the same route (or no route recorded), even an expired one,
    whose supply is not used up to the threshold.
    The fill of the line being checked (``reference``) is not an earlier fill of it (re-checks)."""
    held = [Q(prescription_id=rx.pk)] if rx.pk is not None else []
    if rx.drug_id:
        # Tablets still held do not make a first vial early (two routes are a duplication, TD).
        route = Q(prescription__route__in=[rx.route, ""]) if rx.route else Q()
        held.append(Q(prescription__patient_id=rx.patient_id, prescription__drug_id=rx.drug_id) & route)
    if not held:
        return []
    fills = (
        Dispense.objects.filter(reduce(or_, held))
        .exclude(reference=reference or None)
        .order_by("-prepared_at", "-id")[:50]
    )
    dated = [(refill_due(f), f) for f in fills]
    if not dated:
        return []
    due, last = max(dated, key=lambda pair: (pair[0], pair[1].prepared_at))
    if today >= due:
        return []
    threshold = Decimal(str(settings.RX_EARLY_REFILL_THRESHOLD))
    filled_on = pharmacy_today(last.effective_at)
    source = "" if last.prescription_id == rx.pk else f" under prescription {last.prescription_id}"
    return [
        FindingData(
            "ER",
            MODERATE,
            f"Early refill: last filled on {filled_on:%Y-%m-%d}{source} for {last.days_supply} days; {threshold:.0%} "
            f"of that supply is used on {due:%Y-%m-%d}, {(due - today).days} day(s) from now. Check adherence and "
            "dose changes before refilling.",
            {"last_dispense": last.pk, "refill_due": due.isoformat()},
        )
    ]
