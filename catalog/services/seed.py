"""Load the seed catalogue from the data files kept in the repo (``catalog/seed/*.yaml``).

Loading is an upsert by natural keys, so a second run changes nothing:
drug name; (drug, route); (drug, route, interacts_with, interacting_route); product NDC;
(product, section title); (product, lot number); drug term name (the vocabulary: a term with its
brands, each brand a term of its own with the ingredient's classes). A row is saved only when one of its values
differs. Price tiers are replaced as a whole, and only when they differ. Stock comes in through
``stock_receive`` once per lot number; a lot already received is never touched again (stock
moves after receipt belong to the stock service, not to the seed).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.errors import DomainError

from .. import ndc as ndc_rules
from .. import pricing
from ..models import Drug, DrugInteraction, DrugRoute, DrugTerm, MonographSection, PriceTier, Product, StockLot
from .stock import stock_receive

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"

DRUG_FIELDS = (
    "slug",
    "active_ingredient",
    "pronunciation",
    "drug_class",
    "pharmacologic_class",
    "pregnancy_category",
    "lactation_note",
    "fda_approved",
    "dea_schedule",
    "interaction_groups",
    "brand_names",
)
ROUTE_FIELDS = (
    "dose_unit",
    "max_daily_dose",
    "min_daily_dose",
    "min_age_years",
    "black_box_warning",
    "renal_caution",
    "renal_max_daily_dose",
)
INTERACTION_FIELDS = ("code", "severity", "message")
PRODUCT_FIELDS = (
    "name",
    "slug",
    "manufacturer",
    "is_generic",
    "brand_name",
    "strength",
    "strength_unit",
    "strength_text",
    "concentration_mcg_per_ml",
    "volume_ml",
    "dosage_form",
    "route",
    "selling_unit",
    "pack_size",
    "rx_required",
    "is_refill_kit",
    "is_active",
    "description",
    "low_stock_threshold",
)


class InvalidSeed(DomainError):
    code = "invalid_seed"


@dataclass
class SeedSummary:
    """What a load did, counted per kind of row."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) + sum(self.updated.values()))

    def lines(self) -> list[str]:
        kinds = list(dict.fromkeys([*self.created, *self.updated, *self.unchanged]))
        return [
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, {self.unchanged[kind]} unchanged"
            for kind in kinds
        ]


def seed_files(directory: Path = SEED_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def seed_catalogue_read(*, path: Path) -> dict[str, Any]:
    """Parse one seed file; refuse anything that is not a mapping with drugs, products or terms."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not ({"drugs", "products", "terms"} & set(data)):
        raise InvalidSeed(f"{path}: expected a mapping with 'drugs', 'products' and/or 'terms'.")
    return data


def seed_catalogue_load(*, data: dict[str, Any], today: date | None = None) -> SeedSummary:
    """Upsert the drugs, products and drug terms of one parsed seed file in one transaction."""
    today = today or timezone.localdate()
    summary = SeedSummary()
    with transaction.atomic():
        for term_data in data.get("terms") or []:
            _load_term(term_data, summary)
        for drug_data in data.get("drugs") or []:
            _load_drug(drug_data, summary)
        for product_data in data.get("products") or []:
            _load_product(product_data, summary, today)
    return summary


# --- helpers ------------------------------------------------------------------------------


def _typed(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Convert YAML scalars to the field's Python type, so that comparisons are exact."""
    out = {}
    for name, value in values.items():
        model_field = model._meta.get_field(name)
        if value is None or isinstance(value, models.Model):
            out[name] = value
        elif isinstance(model_field, models.JSONField):
            out[name] = value
        else:
            out[name] = cast("models.Field[Any, Any]", model_field).to_python(value)  # a seed field, not a relation
    return out


def _upsert[M: models.Model](
    model: type[M], lookup: dict[str, Any], values: dict[str, Any], summary: SeedSummary, kind: str
) -> M:
    """Create the row, or save it only when a value differs; count what happened."""
    values = _typed(model, values)
    # Every seeded model has the manager ``objects``; django-stubs' Model declares none.
    obj: M | None = model.objects.filter(**lookup).first()  # type: ignore[attr-defined]
    if obj is None:
        obj = model(**lookup, **values)
        bucket = summary.created
    else:
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            summary.unchanged[kind] += 1
            return obj
        for name in changed:
            setattr(obj, name, values[name])
        bucket = summary.updated
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise InvalidSeed(f"{kind} {lookup}: {exc.message_dict}") from exc
    obj.save()
    bucket[kind] += 1
    return obj


def _pick(data: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: data[name] for name in names if name in data}


def _load_drug(data: dict[str, Any], summary: SeedSummary) -> Drug:
    drug = _upsert(Drug, {"name": data["name"]}, _pick(data, DRUG_FIELDS), summary, "drugs")
    for route in data.get("routes") or []:
        _upsert(DrugRoute, {"drug": drug, "route": route["route"]}, _pick(route, ROUTE_FIELDS), summary, "routes")
    for item in data.get("interactions") or []:
        lookup = {
            "drug": drug,
            "route": item.get("route", ""),
            "interacts_with": item["interacts_with"],
            "interacting_route": item.get("interacting_route", ""),
        }
        _upsert(DrugInteraction, lookup, _pick(item, INTERACTION_FIELDS), summary, "interactions")
    return drug


def _load_term(data: dict[str, Any], summary: SeedSummary) -> None:
    """An ingredient (or class word) with its classes, and each of its brands as a term."""
    if not isinstance(data, dict) or not data.get("name"):
        raise InvalidSeed(f"Drug term {data!r}: expected a mapping with a name.")
    classes = list(data.get("classes") or [])
    name = str(data["name"])
    values: dict[str, Any] = {"kind": "ingredient", "ingredient": "", "classes": classes}
    _upsert(DrugTerm, {"name": _term_name(name)}, values, summary, "terms")
    for brand in data.get("brands") or []:
        values = {"kind": "brand", "ingredient": name, "classes": classes}
        _upsert(DrugTerm, {"name": _term_name(str(brand))}, values, summary, "terms")


def _term_name(name: str) -> str:
    """The name of the term as stored when it differs only in case (terms are unique in any case)."""
    return DrugTerm.objects.filter(name__iexact=name).values_list("name", flat=True).first() or name


def _load_product(data: dict[str, Any], summary: SeedSummary, today: date) -> Product:
    try:
        ndc = ndc_rules.normalize_ndc(str(data["ndc"]))
    except ndc_rules.InvalidNDC as exc:
        raise InvalidSeed(f"Product {data.get('name')!r}: {exc}") from exc
    try:
        drug = Drug.objects.get(name=data["drug"])
    except Drug.DoesNotExist as exc:
        raise InvalidSeed(f"Product {data.get('name')!r}: unknown drug {data['drug']!r}.") from exc
    product = _upsert(Product, {"ndc": ndc}, {"drug": drug, **_pick(data, PRODUCT_FIELDS)}, summary, "products")
    _sync_tiers(product, data.get("price_tiers") or [], summary)
    for lot in data.get("stock_lots") or []:
        _receive_lot(product, lot, summary, today)
    for position, section in enumerate(data.get("monograph") or []):
        _upsert(
            MonographSection,
            {"drug": drug, "product": product, "title": section["title"]},
            {"kind": section["kind"], "body": section["body"], "position": position},
            summary,
            "monograph sections",
        )
    return product


def _sync_tiers(product: Product, rows: list[dict[str, Any]], summary: SeedSummary) -> None:
    wanted = [pricing.Tier(int(row["min_quantity"]), Decimal(str(row["unit_price"]))) for row in rows]
    if wanted:
        try:
            wanted = pricing.validate_tiers(wanted)
        except pricing.InvalidTiers as exc:
            raise InvalidSeed(f"Price tiers of {product.name}: {exc}") from exc
    current = [pricing.Tier(t.min_quantity, t.unit_price) for t in product.price_tiers.order_by("min_quantity")]
    if current == wanted:
        summary.unchanged["price schedules"] += 1
        return
    product.price_tiers.all().delete()
    PriceTier.objects.bulk_create(
        PriceTier(product=product, min_quantity=t.min_quantity, unit_price=t.unit_price) for t in wanted
    )
    (summary.updated if current else summary.created)["price schedules"] += 1


def _receive_lot(product: Product, lot: dict[str, Any], summary: SeedSummary, today: date) -> None:
    lot_number = str(lot["lot_number"])
    if StockLot.objects.filter(product=product, lot_number=lot_number).exists():
        summary.unchanged["stock lots"] += 1
        return
    if "expiry_date" in lot:
        expiry = lot["expiry_date"]
    else:
        expiry = today + timedelta(days=int(lot["expires_in_days"]))
    stock_receive(product=product, lot_number=lot_number, expiry_date=expiry, quantity=int(lot["quantity"]))
    summary.created["stock lots"] += 1
