"""Daily dose arithmetic and unit conversion (pure, no database)."""

from decimal import Decimal

import pytest

from rx.dose import DoseError, Strength, convert_mass, daily_dose, fmt, units_needed

TABLET_10MG = Strength(Decimal("10"), "mg")
VIAL_2000 = Strength(Decimal("2000"), "mcg/mL", Decimal("2000"), Decimal("20"))


def test_mass_conversions_are_exact():
    assert convert_mass(Decimal("1"), "mg", "mcg") == Decimal("1000")
    assert convert_mass(Decimal("250"), "mcg", "mg") == Decimal("0.25")
    assert convert_mass(Decimal("0.08"), "g", "mg") == Decimal("80")


def test_daily_dose_from_a_mass_dose():
    assert daily_dose(dose_amount=20, dose_unit="mg", times_per_day=4, target_unit="mg") == Decimal("80")
    assert daily_dose(dose_amount=20, dose_unit="mg", times_per_day=4, target_unit="mcg") == Decimal("80000")


def test_daily_dose_from_tablets_uses_the_product_strength():
    assert daily_dose(dose_amount=2, dose_unit="tablet", times_per_day=3, strength=TABLET_10MG) == Decimal("60")


def test_daily_dose_from_millilitres_uses_the_concentration():
    # 0.25 mL/day of 2000 mcg/mL = 500 mcg/day (DOMAIN.md worked example).
    assert daily_dose(
        dose_amount=Decimal("0.25"), dose_unit="mL", times_per_day=1, target_unit="mcg", strength=VIAL_2000
    ) == Decimal("500")


def test_concentration_is_parsed_from_a_labelled_strength():
    assert Strength(Decimal("40"), "mg/20 mL").mcg_per_ml() == Decimal("2000")
    assert Strength(Decimal("40"), "mg/20 mL").mcg_per_unit() == Decimal("40000")
    assert Strength(Decimal("2"), "mg/mL", volume_ml=Decimal("20")).mcg_per_unit() == Decimal("40000")


def test_units_needed_rounds_up_to_whole_units():
    assert units_needed(daily_dose_mcg=Decimal("30000"), days_supply=30, strength=TABLET_10MG) == 90
    assert units_needed(daily_dose_mcg=Decimal("500"), days_supply=90, strength=VIAL_2000) == 2
    assert units_needed(daily_dose_mcg=Decimal("500"), days_supply=30, strength=Strength(Decimal("2"), "mg/mL")) is None


@pytest.mark.parametrize("unit, strength", [("mL", TABLET_10MG), ("tablet", None), ("spoonful", TABLET_10MG)])
def test_dose_that_cannot_be_computed_raises(unit, strength):
    with pytest.raises(DoseError):
        daily_dose(dose_amount=1, dose_unit=unit, times_per_day=1, strength=strength)


def test_fmt_drops_trailing_zeros():
    assert fmt(Decimal("80.000")) == "80"
    assert fmt(Decimal("0.250")) == "0.25"
