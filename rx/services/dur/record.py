"""DUR checks on the prescription as a record: the prescriber's numbers (PN), expiry (XP), refills
beyond the schedule's limit (RL) and early refills (ER)."""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

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


def early_refill_check(rx: Prescription, today: date, reference: str) -> list[FindingData]:
    if rx.pk is None:
        return []
    # The fill for the line being checked is not an earlier fill of it (re-checks after a fill).
    last = (
        Dispense.objects.filter(prescription=rx)
        .exclude(reference=reference or None)
        .order_by("-prepared_at", "-id")
        .first()
    )
    if last is None:
        return []
    threshold = Decimal(str(settings.RX_EARLY_REFILL_THRESHOLD))
    filled_on = timezone.localdate(last.effective_at)
    due_days = int((Decimal(last.days_supply) * threshold).to_integral_value(rounding="ROUND_CEILING"))
    due = filled_on + timedelta(days=due_days)
    if today >= due:
        return []
    return [
        FindingData(
            "ER",
            MODERATE,
            f"Early refill: last filled on {filled_on:%Y-%m-%d} for {last.days_supply} days; {threshold:.0%} of that "
            f"supply is used on {due:%Y-%m-%d}, {(due - today).days} day(s) from now. Check adherence and dose "
            "changes before refilling.",
            {"last_dispense": last.pk, "refill_due": due.isoformat()},
        )
    ]
