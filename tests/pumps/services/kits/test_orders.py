"""Ordering kits (pumps.services.kits.orders) directly: the kit for a pump, one kit order per refill cycle,
what a clinic order or a standing order does when the cycle already has one, and ids resolved within
the clinic. The API's view of the same rules is in tests/pumps/api/test_kits.py."""

import pytest
from django.core.exceptions import ValidationError

from core.errors import Conflict
from pumps.models import KitOrder, StandingOrder
from pumps.services import pumps as pump_services
from pumps.services.kits import KitOrderExists
from pumps.services.kits.orders import (
    clinic_kit_order_create,
    kit_order_create,
    kit_product_for,
    standing_order_set,
    validated_shipping,
)
from shop.models import Order
from tests.pumps.fixtures import DUE, SHIP, due_pump, kit_product, make_pump


def test_the_kit_matches_the_pumps_concentration_and_fills_its_reservoir(kit_world):
    assert kit_product_for(pump=kit_world.pump) == (kit_world.product, 1)
    forty = due_pump(kit_world.clinic, model="8637-40", volume="40")
    assert kit_product_for(pump=forty) == (kit_world.product, 2)
    weaker = kit_product(concentration="500", ndc="67457000100")
    with pytest.raises(ValidationError) as refused:
        kit_product_for(pump=kit_world.pump, product=weaker)
    assert "product" in refused.value.message_dict


def test_one_kit_order_per_cycle_a_clinic_is_refused_a_second_a_standing_order_gets_the_first(kit_world):
    first = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)
    standing = standing_order_set(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP)

    with pytest.raises(KitOrderExists) as refused:
        kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)
    again = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, standing_order=standing, now=DUE)

    assert refused.value.data == {"kit_order": first.pk} and refused.value.status_code == 409
    assert again == first
    assert KitOrder.objects.count() == 1 and Order.objects.count() == 1


def test_an_inactive_pump_or_one_without_a_refill_orders_no_kit(kit_world):
    bare = make_pump(kit_world.clinic)
    with pytest.raises(ValidationError) as no_refill:
        kit_order_create(pump=bare, user=kit_world.staff, shipping=SHIP, now=DUE)
    pump_services.pump_deactivate(pump=kit_world.pump, now=DUE)
    with pytest.raises(Conflict) as inactive:
        kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)

    assert "pump" in no_refill.value.message_dict and inactive.value.code == "pump_inactive"
    assert not KitOrder.objects.exists()


def test_ids_outside_the_clinic_and_unknown_kits_are_refused_naming_the_field(kit_world):
    other_pump = due_pump(kit_world.other_clinic)
    other_appointment = other_pump.appointments.get()
    cases = [
        ({"pump_id": other_pump.pk}, "pump"),
        ({"pump_id": kit_world.pump.pk, "appointment_id": other_appointment.pk}, "appointment"),
        ({"pump_id": kit_world.pump.pk, "product_ndc": "0000-0000-00"}, "product"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as refused:
            clinic_kit_order_create(clinic=kit_world.clinic, user=kit_world.staff, shipping=SHIP, **kwargs)
        assert list(refused.value.message_dict) == [field]
    kit = clinic_kit_order_create(
        clinic=kit_world.clinic,
        user=kit_world.staff,
        shipping=SHIP,
        pump_id=kit_world.pump.pk,
        product_ndc="67457-0000-99",
    )
    assert (kit.pump, kit.product, kit.appointment) == (
        kit_world.pump,
        kit_world.product,
        kit_world.pump.appointments.get(),
    )


def test_the_shipping_address_is_trimmed_defaults_to_the_us_and_names_a_missing_field():
    values = validated_shipping({**SHIP, "city": "  Boston ", "country": ""})
    assert (values["city"], values["country"], values["line2"]) == ("Boston", "US", "")
    with pytest.raises(ValidationError) as refused:
        validated_shipping({**SHIP, "postal_code": " "})
    assert list(refused.value.message_dict) == ["shipping_postal_code"]


def test_a_standing_order_is_set_once_per_pump_and_can_be_paused(kit_world):
    standing_order_set(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP)
    paused = standing_order_set(
        pump=kit_world.pump, user=kit_world.staff, shipping={**SHIP, "name": "Night desk"}, active=False
    )

    assert StandingOrder.objects.get() == paused
    assert (paused.active, paused.shipping_name, paused.clinic) == (False, "Night desk", kit_world.clinic)
    with pytest.raises(ValidationError):
        standing_order_set(
            pump=kit_world.pump,
            user=kit_world.staff,
            shipping=SHIP,
            product=kit_product(concentration="500", ndc="67457000100"),
        )
