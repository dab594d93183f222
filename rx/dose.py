"""Dose arithmetic: daily dose from directions and product strength, mass unit conversion.

Pure functions, no ORM and no Django, tested without a database. Amounts are ``Decimal``;
internally everything is converted to micrograms so that mg and mcg limits compare exactly.

Directions give a dose per administration in one of:
- a mass unit (``mg``, ``mcg``, ``g``): taken as is;
- ``mL``: needs the product's concentration (mcg per mL);
- ``unit`` (one tablet, capsule or ampule): needs the product's amount per selling unit.
"""

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MCG_PER = {"mcg": Decimal(1), "mg": Decimal(1000), "g": Decimal(1_000_000)}
_ALIASES = {"µg": "mcg", "ug": "mcg", "microgram": "mcg", "milligram": "mg", "gram": "g"}
VOLUME_UNITS = {"ml"}
COUNT_UNITS = {"unit", "tablet", "tab", "capsule", "cap", "ampule", "ampul", "vial", "each", "kit"}
_PER_VOLUME = re.compile(r"^\s*(mcg|mg|g|µg|ug)\s*/\s*(\d+(?:\.\d+)?)?\s*ml\s*$", re.IGNORECASE)
# What the functions accept as an amount: a Decimal, or anything Decimal(str(x)) reads.
Number = Decimal | int | float | str


class DoseError(ValueError):
    """The dose cannot be computed from the data given (unknown unit, missing strength)."""


def _d(value: Number) -> Decimal:
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise DoseError(f"{value!r} is not a number.") from exc


def normalize_unit(unit: str) -> str:
    """Return the canonical spelling of a dose unit: mcg, mg, g, ml or unit."""
    text = (unit or "").strip().lower()
    text = _ALIASES.get(text, text)
    if text.endswith("s") and text[:-1] in COUNT_UNITS:
        text = text[:-1]
    if text in COUNT_UNITS:
        return "unit"
    if text in MCG_PER or text in VOLUME_UNITS:
        return text
    raise DoseError(f"Unknown dose unit {unit!r}; use mg, mcg, g, mL or unit.")


def convert_mass(amount: Number, from_unit: str, to_unit: str) -> Decimal:
    """Convert a mass between mcg, mg and g (``convert_mass(1, "mg", "mcg") == 1000``)."""
    source, target = normalize_unit(from_unit), normalize_unit(to_unit)
    if source not in MCG_PER or target not in MCG_PER:
        raise DoseError(f"Cannot convert {from_unit} to {to_unit}: both must be mass units.")
    return _d(amount) * MCG_PER[source] / MCG_PER[target]


@dataclass(frozen=True)
class Strength:
    """How much drug a product carries, as recorded on the product.

    ``amount`` + ``unit`` is the labelled strength: ``10 mg`` per tablet, ``2 mg/mL``, or
    ``40 mg/20 mL``. ``concentration_mcg_per_ml`` (liquids) wins over a concentration parsed
    from the unit; ``volume_ml`` is the volume of one selling unit (ampule, vial).
    """

    amount: Decimal
    unit: str
    concentration_mcg_per_ml: Decimal | None = None
    volume_ml: Decimal | None = None

    def mcg_per_ml(self) -> Decimal | None:
        if self.concentration_mcg_per_ml:
            return _d(self.concentration_mcg_per_ml)
        match = _PER_VOLUME.match(self.unit or "")
        if not match:
            return None
        mass, volume = match.groups()
        return convert_mass(self.amount, mass, "mcg") / _d(volume or 1)

    def mcg_per_unit(self) -> Decimal | None:
        """Micrograms in one selling unit (a tablet, an ampule), or None when unknown."""
        unit = (self.unit or "").strip().lower()
        if unit in ("mg", "mcg", "g", "µg", "ug"):
            return convert_mass(self.amount, unit, "mcg")
        match = _PER_VOLUME.match(unit)
        if match and match.group(2):  # "40 mg/20 mL": the labelled amount is the whole unit
            return convert_mass(self.amount, match.group(1), "mcg")
        per_ml = self.mcg_per_ml()
        if per_ml is not None and self.volume_ml:
            return per_ml * _d(self.volume_ml)
        return None


def administration_mcg(dose_amount: Number, dose_unit: str, strength: Strength | None = None) -> Decimal:
    """Return the micrograms given in one administration."""
    amount = _d(dose_amount)
    unit = normalize_unit(dose_unit)
    if unit in MCG_PER:
        return convert_mass(amount, unit, "mcg")
    if unit == "ml":
        per_ml = strength.mcg_per_ml() if strength else None
        if per_ml is None:
            raise DoseError("A dose in mL needs the product's concentration.")
        return amount * per_ml
    per_unit = strength.mcg_per_unit() if strength else None
    if per_unit is None:
        raise DoseError("A dose in tablets or ampules needs the product's strength per unit.")
    return amount * per_unit


def daily_dose(
    *,
    dose_amount: Number,
    dose_unit: str,
    times_per_day: Number,
    target_unit: str = "mg",
    strength: Strength | None = None,
) -> Decimal:
    """Return the dose per day in ``target_unit`` (the most a PRN sig allows when as needed)."""
    per_day = administration_mcg(dose_amount, dose_unit, strength) * _d(times_per_day)
    return convert_mass(per_day, "mcg", target_unit)


def units_needed(*, daily_dose_mcg: Number, days_supply: int, strength: Strength) -> int | None:
    """Return the selling units needed for ``days_supply`` days, or None when unknowable.

    A tablet product needs ceil(daily mcg x days / mcg per tablet) tablets. A liquid sold in
    ampules needs enough whole ampules for the total volume.
    """
    per_unit = strength.mcg_per_unit()
    if not per_unit:
        return None
    return math.ceil(_d(daily_dose_mcg) * int(days_supply) / per_unit)


def fmt(amount: Number) -> str:
    """Show a Decimal without trailing zeros or exponent: 80.000 -> '80', 0.250 -> '0.25'."""
    value = _d(amount).quantize(Decimal("0.001"))
    text = format(value.normalize(), "f")
    return text
