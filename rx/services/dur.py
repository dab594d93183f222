"""Drug utilization review (DUR): compute findings for a prescription from data.

Every limit comes from the catalogue (``DrugRoute`` limits, ``DrugInteraction`` rows, the
drug's pregnancy category, lactation note, schedule and interaction groups) or from settings
(``RX_EARLY_REFILL_THRESHOLD``, ``RX_NONCONTROLLED_EXPIRY_DAYS``). Nothing clinical is a
constant in this module.

Codes are NCPDP DUR conflict codes where one exists:

====  ===================================================================
HD    daily dose above the route's maximum          (high)
LD    daily dose below the route's minimum          (moderate)
PA    patient younger than the route's minimum age  (high)
RI    renal impairment and the route has renal data (moderate; high above the route's renal maximum)
PG    pregnancy                                     (by FDA category)
NR    lactation                                     (moderate)
DA    drug allergy                                  (high)
DD/AT drug-drug interaction / additive toxicity     (the interaction's severity)
TD    therapeutic duplication                       (moderate)
ER    early refill                                  (moderate)
EX    excessive quantity                            (moderate)
====  ===================================================================

and ours for what NCPDP does not code:

====  ===================================================================
XP    prescription expired                          (high)
RL    refills beyond the controlled schedule's limit (high)
PN    prescriber NPI/DEA missing or failing its check digit (high; DEA initial: low)
DC    daily dose could not be checked (data missing) (low)
====  ===================================================================
"""

import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Drug, DrugInteraction, DrugRoute

from .. import dose, identifiers
from ..models import Dispense, Finding, Patient, Prescription
from ..models.prescriptions import legal_max_refills

HIGH, MODERATE, LOW = Finding.Severity.HIGH, Finding.Severity.MODERATE, Finding.Severity.LOW
PREGNANCY_SEVERITY = {"B": LOW, "C": MODERATE, "D": HIGH, "X": HIGH}
ACTIVE_STATUSES = (*Prescription.QUEUE_STATUSES, Prescription.Status.APPROVED)
ROUTE_WORDS = {value: value for value, _ in Prescription._meta.get_field("route").choices}


def _today() -> date:
    return timezone.localdate()


@dataclass(frozen=True)
class FindingData:
    """One finding as computed (not yet stored): what the API and the admin show."""

    code: str
    severity: str
    message: str
    data: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DurContext:
    """What the check runs against: the day, and optionally the reference of the order line
    asking for the fill (its own dispense, if any, is not counted as an earlier fill)."""

    today: date | None = None
    reference: str = ""


@dataclass(frozen=True)
class CurrentMedication:
    """A medication the patient takes, from a linked product, free text or another prescription."""

    label: str
    ingredient: str
    groups: frozenset
    route: str
    drug_id: int | None
    source: str


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", (text or "").strip().lower())


def _contains_term(text: str, term: str) -> bool:
    term = _norm(term)
    return bool(term) and re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", _norm(text)) is not None


def _split_entries(text: str) -> list[str]:
    return [e.strip() for e in re.split(r"[\n,;]+", text or "") if e.strip()]


# --- the patient's current medications -----------------------------------------------------

def current_medications(*, patient: Patient, exclude_prescription_id=None, today: date) -> list[CurrentMedication]:
    """Return the patient's current medications from linked products, free text and the
    patient's other active prescriptions (received, in review, needing information or approved,
    and not expired)."""
    meds: list[CurrentMedication] = []
    for product in patient.current_products.select_related("drug"):
        meds.append(CurrentMedication(
            label=f"{product.name} ({product.route}, current medication)",
            ingredient=_norm(product.drug.active_ingredient),
            groups=frozenset(map(_norm, product.drug.interaction_groups)),
            route=product.route, drug_id=product.drug_id, source="product",
        ))
    meds.extend(_medications_from_text(patient.current_medications_text))
    others = (Prescription.objects.filter(patient=patient, status__in=ACTIVE_STATUSES, drug__isnull=False)
              .exclude(pk=exclude_prescription_id).select_related("drug"))
    for rx in others:
        if rx.is_expired_on(today):
            continue
        meds.append(CurrentMedication(
            label=(f"prescription {rx.pk} for {rx.drug} ({rx.route or 'route not recorded'}, "
                   f"{rx.get_status_display().lower()})"),
            ingredient=_norm(rx.drug.active_ingredient), groups=frozenset(map(_norm, rx.drug.interaction_groups)),
            route=rx.route, drug_id=rx.drug_id, source="prescription",
        ))
    return meds


def _medications_from_text(text: str) -> list[CurrentMedication]:
    """Match free-text entries against known drugs, interaction groups and interacting terms."""
    entries = _split_entries(text)
    if not entries:
        return []
    drugs = list(Drug.objects.values_list("pk", "name", "active_ingredient", "interaction_groups"))
    known_groups = {_norm(g) for *_, groups in drugs for g in groups}
    known_groups |= {_norm(t) for t in DrugInteraction.objects.values_list("interacts_with", flat=True).distinct()}
    meds = []
    for entry in entries:
        route = next((r for r in ROUTE_WORDS if _contains_term(entry, r)), "")
        matched = False
        for pk, name, ingredient, groups in drugs:
            if _contains_term(entry, ingredient) or _contains_term(entry, name):
                meds.append(CurrentMedication(
                    label=f'"{entry}" (patient\'s medication list)', ingredient=_norm(ingredient),
                    groups=frozenset(map(_norm, groups)), route=route, drug_id=pk, source="text"))
                matched = True
                break
        if not matched:
            for term in sorted(known_groups):
                if _contains_term(entry, term):
                    meds.append(CurrentMedication(
                        label=f'"{entry}" (patient\'s medication list)', ingredient=term,
                        groups=frozenset({term}), route=route, drug_id=None, source="text"))
                    break
    return meds


# --- the checks ------------------------------------------------------------------------------

def dur_check(*, prescription: Prescription, quantity: int | None = None,
              context: DurContext | None = None) -> list[FindingData]:
    """Return the DUR findings for ``prescription``, for a fill of ``quantity`` units
    (default: the quantity per fill) in ``context`` (default: today).

    Checks that lack the data they need (an upload not transcribed yet) are skipped; approval
    separately requires the structured fields.
    """
    context = context or DurContext()
    today = context.today or _today()
    findings: list[FindingData] = []
    findings += _prescriber_checks(prescription)
    findings += _expiry_and_refill_checks(prescription, today)
    if not prescription.drug_id:
        return findings
    drug = prescription.drug
    patient = prescription.patient
    limit = DrugRoute.objects.filter(drug=drug, route=prescription.route).first() if prescription.route else None
    daily = _daily_dose(prescription, limit)
    findings += _dose_checks(prescription, limit, daily)
    findings += _age_check(prescription, patient, limit, today)
    findings += _renal_check(prescription, patient, limit, daily)
    findings += _pregnancy_and_lactation(drug, patient)
    findings += _allergy_check(drug, patient)
    meds = current_medications(patient=patient, exclude_prescription_id=prescription.pk, today=today)
    interactions = _interaction_checks(prescription, meds)
    findings += interactions
    already = {f.data.get("with") for f in interactions if f.code == "TD"}
    findings += _duplication_checks(prescription, [m for m in meds if m.label not in already])
    findings += _early_refill_check(prescription, today, context.reference)
    findings += _quantity_check(prescription, quantity, daily)
    return findings


def _drug_label(rx: Prescription) -> str:
    return f"{rx.route} {rx.drug}".strip() if rx.route else str(rx.drug)


def _prescriber_checks(rx: Prescription) -> list[FindingData]:
    prescriber = rx.prescriber
    if prescriber is None:
        return []
    out = []
    if not prescriber.npi:
        out.append(FindingData("PN", HIGH, f"Prescriber {prescriber.name} has no NPI on file; look it up in "
                                            "NPPES or ask the prescriber before approving.", {"field": "npi"}))
    elif not identifiers.npi_is_valid(prescriber.npi):
        out.append(FindingData("PN", HIGH, f"Prescriber NPI {prescriber.npi} fails its check digit; confirm the "
                                            "number with the prescriber (NPPES) before approving.", {"field": "npi"}))
    if rx.is_controlled:
        if not prescriber.dea_number:
            out.append(FindingData("PN", HIGH, f"Schedule {rx.schedule} prescription without the prescriber's DEA "
                                                "number; obtain it before dispensing.", {"field": "dea_number"}))
        elif not identifiers.dea_is_valid(prescriber.dea_number):
            out.append(FindingData("PN", HIGH, f"DEA number {prescriber.dea_number} fails its checksum; verify the "
                                                "registration with the prescriber.", {"field": "dea_number"}))
        elif not identifiers.dea_matches_surname(prescriber.dea_number, identifiers.surname_of(prescriber.name)):
            out.append(FindingData("PN", LOW, f"DEA number {prescriber.dea_number}: the second letter is not the "
                                               f"initial of {prescriber.name}'s surname; check the registration.",
                                   {"field": "dea_number"}))
    return out


def _expiry_and_refill_checks(rx: Prescription, today: date) -> list[FindingData]:
    out = []
    if rx.is_expired_on(today):
        out.append(FindingData("XP", HIGH, f"Prescription expired on {rx.expires_on:%Y-%m-%d} (written "
                                            f"{rx.written_date:%Y-%m-%d}); a new prescription is needed.",
                               {"expires_on": rx.expires_on.isoformat()}))
    limit = legal_max_refills(rx.schedule)
    if limit is not None and rx.refills_authorized > limit:
        allowed = "no refills" if limit == 0 else f"at most {limit} refills within 6 months of the written date"
        out.append(FindingData(
            "RL", HIGH,
            f"Schedule {rx.schedule} allows {allowed} (21 CFR 1306); {rx.refills_authorized} were written. Only "
            f"{limit + 1} fill(s) can be dispensed; ask the prescriber for a new prescription for the rest.",
            {"refills_authorized": rx.refills_authorized, "legal_max": limit}))
    return out


def _daily_dose(rx: Prescription, limit: DrugRoute | None):
    """Return (daily dose in the limit's unit, daily dose in mcg) or an error text, or None."""
    if rx.dose_amount is None or not rx.dose_unit or rx.times_per_day is None:
        return None
    unit = limit.dose_unit if limit else "mg"
    try:
        mcg = dose.daily_dose(dose_amount=rx.dose_amount, dose_unit=rx.dose_unit, times_per_day=rx.times_per_day,
                              target_unit="mcg", strength=rx.dose_strength())
    except dose.DoseError as exc:
        return str(exc)
    return dose.convert_mass(mcg, "mcg", unit), mcg, unit


def _dose_checks(rx: Prescription, limit: DrugRoute | None, daily) -> list[FindingData]:
    if daily is None or limit is None:
        return []
    if isinstance(daily, str):
        return [FindingData("DC", LOW, f"Daily dose not checked against the {rx.route} limits: {daily}")]
    amount, _, unit = daily
    how = f"{dose.fmt(rx.dose_amount)} {rx.dose_unit} x {dose.fmt(rx.times_per_day)}/day"
    if rx.as_needed:
        how += " at most (as needed)"
    data = {"daily_dose": dose.fmt(amount), "unit": unit}
    out = []
    if limit.max_daily_dose is not None and amount > limit.max_daily_dose:
        out.append(FindingData(
            "HD", HIGH,
            f"Daily dose {dose.fmt(amount)} {unit} ({how}) is above the maximum of {dose.fmt(limit.max_daily_dose)} "
            f"{unit}/day for {_drug_label(rx)}. Confirm the dose with the prescriber.",
            {**data, "max_daily_dose": dose.fmt(limit.max_daily_dose)}))
    if limit.min_daily_dose is not None and amount < limit.min_daily_dose:
        out.append(FindingData(
            "LD", MODERATE,
            f"Daily dose {dose.fmt(amount)} {unit} ({how}) is below the usual minimum of "
            f"{dose.fmt(limit.min_daily_dose)} {unit}/day for {_drug_label(rx)}; check it is intended "
            "(titration start, taper).",
            {**data, "min_daily_dose": dose.fmt(limit.min_daily_dose)}))
    return out


def _age_check(rx, patient, limit, today) -> list[FindingData]:
    if limit is None or limit.min_age_years is None:
        return []
    age = patient.age_on(today)
    if age >= limit.min_age_years:
        return []
    return [FindingData(
        "PA", HIGH,
        f"Patient is {age} years old; safety of {_drug_label(rx)} below {limit.min_age_years} years is not "
        "established. Confirm the indication and dose with the prescriber.",
        {"age": age, "min_age_years": limit.min_age_years})]


RENALLY_IMPAIRED = (Patient.RenalImpairment.MILD, Patient.RenalImpairment.MODERATE, Patient.RenalImpairment.SEVERE)


def _renal_check(rx, patient, limit, daily) -> list[FindingData]:
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
        message = (f"Patient has {level} renal impairment; daily dose {dose.fmt(amount)} {daily[2]} is above the "
                   f"renal maximum of {dose.fmt(renal_max)} {limit.dose_unit}/day for {_drug_label(rx)}. "
                   "Reduce the dose with the prescriber before dispensing.")
        severity = HIGH
        data["daily_dose"] = dose.fmt(amount)
    else:
        message = f"Patient has {level} renal impairment; {_drug_label(rx)} needs renal dosing review."
        if renal_max is not None:
            message += f" Renal maximum: {dose.fmt(renal_max)} {limit.dose_unit}/day."
        severity = MODERATE
    if caution:
        message += f" {caution}"
    return [FindingData("RI", severity, message, data)]


def _pregnancy_and_lactation(drug: Drug, patient: Patient) -> list[FindingData]:
    out = []
    category = (drug.pregnancy_category or "").strip().upper()
    if patient.pregnancy_status == Patient.Pregnancy.PREGNANT and category in PREGNANCY_SEVERITY:
        advice = {"B": "no evidence of risk in animal studies; use if clearly needed",
                  "C": "risk cannot be ruled out; use only if the benefit justifies the risk to the fetus",
                  "D": "evidence of fetal risk; use only when no safer option exists",
                  "X": "contraindicated in pregnancy"}[category]
        out.append(FindingData("PG", PREGNANCY_SEVERITY[category],
                               f"Patient is pregnant; {drug} is pregnancy category {category}: {advice}.",
                               {"pregnancy_category": category}))
    if patient.is_lactating and drug.lactation_note.strip():
        out.append(FindingData("NR", MODERATE, f"Patient is breastfeeding. {drug}: {drug.lactation_note.strip()}"))
    return out


def _allergy_check(drug: Drug, patient: Patient) -> list[FindingData]:
    for entry in _split_entries(patient.allergies):
        if _contains_term(entry, drug.active_ingredient) or _contains_term(entry, drug.name):
            return [FindingData("DA", HIGH, f'Patient reports an allergy: "{entry}". Do not dispense {drug} '
                                             "unless the prescriber confirms.", {"allergy": entry})]
    return []


def _route_matches(wanted: str, actual: str) -> bool | None:
    """True/False when both routes are known; None when the medication's route is not recorded."""
    if not wanted:
        return True
    if not actual:
        return None
    return wanted == actual


def _interaction_checks(rx: Prescription, meds: list[CurrentMedication]) -> list[FindingData]:
    drug = rx.drug
    own_terms = {_norm(drug.active_ingredient)} | {_norm(g) for g in drug.interaction_groups}
    own_ingredient = _norm(drug.active_ingredient)
    candidates = meds
    if not candidates:
        return []
    drug_ids = {drug.pk} | {m.drug_id for m in candidates if m.drug_id}
    interactions = list(DrugInteraction.objects.filter(drug_id__in=drug_ids))
    out, seen = [], set()
    for med in candidates:
        # The same drug by another route is matched only by an interaction naming the ingredient
        # itself (e.g. intrathecal baclofen + oral baclofen, TD); its own groups would otherwise
        # make every drug interact with itself (baclofen is a CNS depressant).
        med_terms = {med.ingredient} if med.ingredient == own_ingredient else {med.ingredient} | set(med.groups)
        for ix in interactions:
            term = _norm(ix.interacts_with)
            # (does the rx's route fit, does the medication's route fit) for each way round.
            ways = []
            if ix.drug_id == drug.pk and term in med_terms:
                ways.append((_route_matches(ix.route, rx.route), _route_matches(ix.interacting_route, med.route)))
            if med.drug_id and ix.drug_id == med.drug_id and term in (
                    own_terms if med.ingredient != own_ingredient else {own_ingredient}):
                ways.append((_route_matches(ix.interacting_route, rx.route), _route_matches(ix.route, med.route)))
            fitting = [w for w in ways if False not in w]
            if not fitting or (ix.pk, med.label) in seen:
                continue
            _, other_route = max(fitting, key=lambda w: (w[0] is True) + (w[1] is True))
            seen.add((ix.pk, med.label))
            note = (f" The route of {med.label} is not recorded; the warning applies to "
                    f"{ix.interacting_route or ix.route} use." if other_route is None else "")
            out.append(FindingData(ix.code or "DD", ix.severity,
                                   f"{ix.message.strip()} Current medication: {med.label}.{note}",
                                   {"interaction": ix.pk, "with": med.label}))
    return out


def _duplication_checks(rx: Prescription, meds: list[CurrentMedication]) -> list[FindingData]:
    own = _norm(rx.drug.active_ingredient)
    out = []
    for med in meds:
        if med.ingredient != own:
            continue
        if med.route and rx.route and med.route != rx.route:
            message = (f"Therapeutic duplication: {rx.drug} by two routes, {med.label} and this {rx.route} "
                       f"prescription. Confirm with the prescriber that the {med.route} therapy is being "
                       "withdrawn (slowly, where stopping abruptly is dangerous) or is meant to continue.")
        else:
            message = (f"Therapeutic duplication: {med.label} is the same drug as this prescription. Confirm "
                       "which one the patient should take before dispensing both.")
        out.append(FindingData("TD", MODERATE, message, {"with": med.label}))
    return out


def _early_refill_check(rx: Prescription, today: date, reference: str) -> list[FindingData]:
    if rx.pk is None:
        return []
    # The fill for the line being checked is not an earlier fill of it (re-checks after a fill).
    last = (Dispense.objects.filter(prescription=rx).exclude(reference=reference or None)
            .order_by("-prepared_at", "-id").first())
    if last is None:
        return []
    threshold = Decimal(str(settings.RX_EARLY_REFILL_THRESHOLD))
    filled_on = timezone.localdate(last.effective_at)
    due_days = int((Decimal(last.days_supply) * threshold).to_integral_value(rounding="ROUND_CEILING"))
    due = filled_on + timedelta(days=due_days)
    if today >= due:
        return []
    return [FindingData(
        "ER", MODERATE,
        f"Early refill: last filled on {filled_on:%Y-%m-%d} for {last.days_supply} days; {threshold:.0%} of that "
        f"supply is used on {due:%Y-%m-%d}, {(due - today).days} day(s) from now. Check adherence and dose "
        "changes before refilling.",
        {"last_dispense": last.pk, "refill_due": due.isoformat()})]


def _quantity_check(rx: Prescription, quantity: int | None, daily) -> list[FindingData]:
    quantity = quantity if quantity is not None else rx.quantity
    if not quantity or not rx.days_supply or not daily or isinstance(daily, str):
        return []
    strength = rx.dose_strength()
    needed = dose.units_needed(daily_dose_mcg=daily[1], days_supply=rx.days_supply, strength=strength) \
        if strength else None
    if needed is None or quantity <= needed:
        return []
    return [FindingData(
        "EX", MODERATE,
        f"Quantity {quantity} is more than the {needed} unit(s) that {rx.days_supply} days at "
        f"{dose.fmt(daily[0])} {daily[2]}/day need. Correct the quantity or the days supply.",
        {"quantity": quantity, "needed": needed})]


# --- storing ---------------------------------------------------------------------------------

def prescription_findings_refresh(*, prescription: Prescription, context: DurContext | None = None) -> list[Finding]:
    """Recompute and store the findings of ``prescription`` (replacing the previous ones)."""
    data = dur_check(prescription=prescription, context=context)
    with transaction.atomic():
        prescription.findings.all().delete()
        return Finding.objects.bulk_create(
            [Finding(prescription=prescription, code=f.code, severity=f.severity, message=f.message, data=f.data)
             for f in data]
        )
