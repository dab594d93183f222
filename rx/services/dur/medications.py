"""The patient's current medications, and the DUR checks against them: drug-drug interactions and
additive toxicity (DD/AT) and therapeutic duplication (TD)."""

from datetime import date

from catalog.models import DrugInteraction

from ...models import Patient, Prescription
from .findings import MODERATE, FindingData, norm
from .text import CurrentMedication, medications_from_text

ACTIVE_STATUSES = (*Prescription.QUEUE_STATUSES, Prescription.Status.APPROVED)


def current_medications(
    *, patient: Patient, exclude_prescription_id: int | None = None, today: date
) -> list[CurrentMedication]:
    """Return the patient's current medications from linked products, free text and the
    patient's other active prescriptions (received, in review, needing information or approved,
    and not expired)."""
    meds: list[CurrentMedication] = []
    for product in patient.current_products.select_related("drug"):
        meds.append(
            CurrentMedication(
                label=f"{product.name} ({product.route}, current medication)",
                ingredient=norm(product.drug.active_ingredient),
                groups=frozenset(map(norm, product.drug.interaction_groups)),
                route=product.route,
                drug_id=product.drug_id,
                source="product",
            )
        )
    meds.extend(medications_from_text(patient.current_medications_text))
    others = (
        Prescription.objects.filter(patient=patient, status__in=ACTIVE_STATUSES, drug__isnull=False)
        # None (an unsaved prescription) excludes nothing: Django reads pk=None as pk__isnull=True.
        .exclude(pk=exclude_prescription_id)  # type: ignore[misc]
        .select_related("drug")
    )
    for rx in others:
        if rx.is_expired_on(today):
            continue
        assert rx.drug is not None  # filtered on drug__isnull=False
        meds.append(
            CurrentMedication(
                label=(
                    f"prescription {rx.pk} for {rx.drug} ({rx.route or 'route not recorded'}, "
                    f"{rx.get_status_display().lower()})"
                ),
                ingredient=norm(rx.drug.active_ingredient),
                groups=frozenset(map(norm, rx.drug.interaction_groups)),
                route=rx.route,
                drug_id=rx.drug_id,
                source="prescription",
            )
        )
    return meds


def _route_matches(wanted: str, actual: str) -> bool | None:
    """True/False when both routes are known; None when the medication's route is not recorded."""
    if not wanted:
        return True
    if not actual:
        return None
    return wanted == actual


def interaction_checks(rx: Prescription, meds: list[CurrentMedication]) -> list[FindingData]:
    drug = rx.drug
    assert drug is not None  # the DUR runs these only for a prescription with a drug
    own_terms = {norm(drug.active_ingredient)} | {norm(g) for g in drug.interaction_groups}
    own_ingredient = norm(drug.active_ingredient)
    candidates = meds
    if not candidates:
        return []
    drug_ids = {drug.pk} | {m.drug_id for m in candidates if m.drug_id}
    interactions = list(DrugInteraction.objects.filter(drug_id__in=drug_ids).order_by("pk"))
    out: list[FindingData] = []
    seen: set[tuple[object, ...]] = set()
    for med in candidates:
        # The same drug by another route is matched only by an interaction naming the ingredient
        # itself (e.g. intrathecal baclofen + oral baclofen, TD); its own groups would otherwise
        # make every drug interact with itself (baclofen is a CNS depressant).
        med_terms = {med.ingredient} if med.ingredient == own_ingredient else {med.ingredient} | set(med.groups)
        for ix in interactions:
            term = norm(ix.interacts_with)
            # (does the rx's route fit, does the medication's route fit) for each way round.
            ways = []
            if ix.drug_id == drug.pk and term in med_terms:
                ways.append((_route_matches(ix.route, rx.route), _route_matches(ix.interacting_route, med.route)))
            if (
                med.drug_id
                and ix.drug_id == med.drug_id
                and term in (own_terms if med.ingredient != own_ingredient else {own_ingredient})
            ):
                ways.append((_route_matches(ix.interacting_route, rx.route), _route_matches(ix.route, med.route)))
            fitting = [w for w in ways if False not in w]
            # One medication in two classes the drug interacts with (a benzodiazepine is a CNS
            # depressant too) is one warning of each kind, not one per class.
            kind = (med.label, ix.code, ix.severity) if term != med.ingredient else (ix.pk, med.label)
            if not fitting or (ix.pk, med.label) in seen or kind in seen:
                continue
            _, other_route = max(fitting, key=lambda w: (w[0] is True) + (w[1] is True))
            seen |= {(ix.pk, med.label), kind}
            note = (
                f" The route of {med.label} is not recorded; the warning applies to "
                f"{ix.interacting_route or ix.route} use."
                if other_route is None
                else ""
            )
            out.append(
                FindingData(
                    ix.code or "DD",
                    ix.severity,
                    f"{ix.message.strip()} Current medication: {med.label}.{note}",
                    {"interaction": ix.pk, "with": med.label},
                )
            )
    return out


def duplication_checks(rx: Prescription, meds: list[CurrentMedication]) -> list[FindingData]:
    assert rx.drug is not None  # the DUR runs these only for a prescription with a drug
    own = norm(rx.drug.active_ingredient)
    out = []
    for med in meds:
        if med.ingredient != own:
            continue
        if med.route and rx.route and med.route != rx.route:
            message = (
                f"Therapeutic duplication: {rx.drug} by two routes, {med.label} and this {rx.route} "
                f"prescription. Confirm with the prescriber that the {med.route} therapy is being "
                "withdrawn (slowly, where stopping abruptly is dangerous) or is meant to continue."
            )
        else:
            message = (
                f"Therapeutic duplication: {med.label} is the same drug as this prescription. Confirm "
                "which one the patient should take before dispensing both."
            )
        out.append(FindingData("TD", MODERATE, message, {"with": med.label}))
    return out
