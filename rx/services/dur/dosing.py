"""DUR checks of the dose against the route's limits: daily dose (HD, LD, DC), age (PA), renal
impairment (RI) and excessive quantity (EX)."""

from datetime import date
from decimal import Decimal

from catalog.models import DrugRoute

from ... import dose
from ...models import Patient, Prescription
from .findings import HIGH, LOW, MODERATE, FindingData, drug_label

# (daily dose in the limit's unit, daily dose in mcg, the limit's unit), or why it could not be computed.
DailyDose = tuple[Decimal, Decimal, str] | str | None


def daily_dose_of(rx: Prescription, limit: DrugRoute | None) -> DailyDose:
    """Return (daily dose in the limit's unit, daily dose in mcg) or an error text, or None."""
    if rx.dose_amount is None or not rx.dose_unit or rx.times_per_day is None:
        return None
    unit = limit.dose_unit if limit else "mg"
    try:
        mcg = dose.daily_dose(
            dose_amount=rx.dose_amount,
            dose_unit=rx.dose_unit,
            times_per_day=rx.times_per_day,
            target_unit="mcg",
            strength=rx.dose_strength(),
        )
    except dose.DoseError as exc:
        return str(exc)
    return dose.convert_mass(mcg, "mcg", unit), mcg, unit


def dose_checks(rx: Prescription, limit: DrugRoute | None, daily: DailyDose) -> list[FindingData]:
    if daily is None or limit is None:
        return []
    if isinstance(daily, str):
        return [FindingData("DC", LOW, f"Daily dose not checked against the {rx.route} limits: {daily}")]
    amount, _, unit = daily
    assert rx.dose_amount is not None and rx.times_per_day is not None  # daily_dose_of() computed daily from them
    how = f"{dose.fmt(rx.dose_amount)} {rx.dose_unit} x {dose.fmt(rx.times_per_day)}/day"
    if rx.as_needed:
        how += " at most (as needed)"
    data = {"daily_dose": dose.fmt(amount), "unit": unit}
    out = []
    if limit.max_daily_dose is not None and amount > limit.max_daily_dose:
        out.append(
            FindingData(
                "HD",
                HIGH,
                f"Daily dose {dose.fmt(amount)} {unit} ({how}) is above the maximum of "
                f"{dose.fmt(limit.max_daily_dose)} {unit}/day for {drug_label(rx)}. "
                "Confirm the dose with the prescriber.",
                {**data, "max_daily_dose": dose.fmt(limit.max_daily_dose)},
            )
        )
    if limit.min_daily_dose is not None and amount < limit.min_daily_dose:
        out.append(
            FindingData(
                "LD",
                MODERATE,
                f"Daily dose {dose.fmt(amount)} {unit} ({how}) is below the usual minimum of "
                f"{dose.fmt(limit.min_daily_dose)} {unit}/day for {drug_label(rx)}; check it is intended "
                "(titration start, taper).",
                {**data, "min_daily_dose": dose.fmt(limit.min_daily_dose)},
            )
        )
    return out


def age_check(rx: Prescription, patient: Patient, limit: DrugRoute | None, today: date) -> list[FindingData]:
    if limit is None or limit.min_age_years is None:
        return []
    age = patient.age_on(today)
    if age >= limit.min_age_years:
        return []
    return [
        FindingData(
            "PA",
            HIGH,
            f"Patient is {age} years old; safety of {drug_label(rx)} below {limit.min_age_years} years is not "
            "established. Confirm the indication and dose with the prescriber.",
            {"age": age, "min_age_years": limit.min_age_years},
        )
    ]


RENALLY_IMPAIRED = (Patient.RenalImpairment.MILD, Patient.RenalImpairment.MODERATE, Patient.RenalImpairment.SEVERE)


def renal_check(rx: Prescription, patient: Patient, limit: DrugRoute | None, daily: DailyDose) -> list[FindingData]:
    """RI when the patient has renal impairment (mild, moderate or severe; not "unknown" or
    "none") and the route carries renal data (``renal_caution`` and/or ``renal_max_daily_dose``)."""
    if limit is None or patient.renal_impairment not in RENALLY_IMPAIRED:
        return []
    caution = limit.renal_caution.strip()
    renal_max = limit.renal_max_daily_dose
    if not caution and renal_max is None:
        return []
    level = patient.get_renal_impairment_display().lower()
    data = {"renal_impairment": patient.renal_impairment}
    amount = daily[0] if daily and not isinstance(daily, str) else None
    if renal_max is not None:
        data["renal_max_daily_dose"] = dose.fmt(renal_max)
    if renal_max is not None and amount is not None and amount > renal_max:
        assert isinstance(daily, tuple)  # amount is daily[0]
        message = (
            f"Patient has {level} renal impairment; daily dose {dose.fmt(amount)} {daily[2]} is above the "
            f"renal maximum of {dose.fmt(renal_max)} {limit.dose_unit}/day for {drug_label(rx)}. "
            "Reduce the dose with the prescriber before dispensing."
        )
        severity = HIGH
        data["daily_dose"] = dose.fmt(amount)
    else:
        message = f"Patient has {level} renal impairment; {drug_label(rx)} needs renal dosing review."
        if renal_max is not None:
            message += f" Renal maximum: {dose.fmt(renal_max)} {limit.dose_unit}/day."
        severity = MODERATE
    if caution:
        message += f" {caution}"
    return [FindingData("RI", severity, message, data)]


def quantity_check(rx: Prescription, quantity: int | None, daily: DailyDose) -> list[FindingData]:
    quantity = quantity if quantity is not None else rx.quantity
    if not quantity or not rx.days_supply or not daily or isinstance(daily, str):
        return []
    strength = rx.dose_strength()
    needed = (
        dose.units_needed(daily_dose_mcg=daily[1], days_supply=rx.days_supply, strength=strength) if strength else None
    )
    if needed is None or quantity <= needed:
        return []
    return [
        FindingData(
            "EX",
            MODERATE,
            f"Quantity {quantity} is more than the {needed} unit(s) that {rx.days_supply} days at "
            f"{dose.fmt(daily[0])} {daily[2]}/day need. Correct the quantity or the days supply.",
            {"quantity": quantity, "needed": needed},
        )
    ]
