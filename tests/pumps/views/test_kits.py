"""The clinic's refill-kit page (pumps.views.kits): its own staff order, cancel and set standing orders; others
get 404."""

import pytest
from django.urls import reverse

from pumps.models import KitOrder, StandingOrder
from tests.core.factories import UserFactory
from tests.pumps.fixtures import (
    CANCEL_REASON,
    SHIPPING,
    assert_nothing_cancelled,
    clinic_with_staff,
    due_pump,
    kit_product,
    pharmacist,
)


@pytest.fixture
def page(db):
    kit_product()
    clinic, staff = clinic_with_staff(name="Clinic A")
    pump = due_pump(clinic)
    return type(
        "Page",
        (),
        {
            "clinic": clinic,
            "staff": staff,
            "pump": pump,
            "url": reverse("pumps:clinic-kits", kwargs={"clinic_id": clinic.pk}),
        },
    )


def test_clinic_staff_order_a_kit_from_the_page_and_see_it_listed(client, page):
    client.force_login(page.staff)

    response = client.post(page.url, {"action": "order", "pump": page.pump.pk, **SHIPPING})

    assert response.status_code == 302
    kit = KitOrder.objects.get()
    listing = client.get(page.url)
    assert listing.status_code == 200
    assert kit.order.number in listing.content.decode()
    assert page.pump.patient.last_name in listing.content.decode()


def test_a_page_order_missing_a_field_shows_the_error_and_saves_nothing(client, page):
    client.force_login(page.staff)
    data = {"action": "order", "pump": page.pump.pk, **SHIPPING}
    del data["shipping_postal_code"]

    response = client.post(page.url, data)

    assert response.status_code == 400
    assert "postal code" in response.content.decode()
    assert not KitOrder.objects.exists()


def test_clinic_staff_set_a_standing_order_from_the_page(client, page):
    client.force_login(page.staff)

    response = client.post(page.url, {"action": "standing", "pump": page.pump.pk, "active": "on", **SHIPPING})

    assert response.status_code == 302
    standing = StandingOrder.objects.get()
    assert (standing.pump_id, standing.active, standing.created_by) == (page.pump.pk, True, page.staff)


@pytest.mark.parametrize("who", ["other_clinic", "shopper", "pharmacist"])
def test_the_kit_page_is_404_for_anyone_but_the_clinics_staff(client, page, who):
    user = {"other_clinic": clinic_with_staff()[1], "shopper": UserFactory(), "pharmacist": pharmacist()}[who]
    client.force_login(user)

    assert client.get(page.url).status_code == 404
    assert client.post(page.url, {"action": "order", "pump": page.pump.pk, **SHIPPING}).status_code == 404
    assert not KitOrder.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, page):
    response = client.get(page.url)

    assert response.status_code == 302 and "login" in response["Location"]


def test_clinic_staff_cancel_a_kit_from_the_page(client, ordered_kit):
    client.force_login(ordered_kit.staff)
    url = reverse("pumps:clinic-kits", kwargs={"clinic_id": ordered_kit.clinic.pk})
    listing = client.get(url).content.decode()
    assert 'name="action" value="cancel"' in listing and f'name="kit_order" value="{ordered_kit.kit.pk}"' in listing

    response = client.post(url, {"action": "cancel", "kit_order": ordered_kit.kit.pk, "reason": CANCEL_REASON})

    assert response.status_code == 302
    ordered_kit.kit.refresh_from_db()
    assert ordered_kit.kit.status == KitOrder.Status.CANCELLED


def test_a_page_cancel_without_a_reason_shows_the_error_and_changes_nothing(client, ordered_kit):
    client.force_login(ordered_kit.staff)
    url = reverse("pumps:clinic-kits", kwargs={"clinic_id": ordered_kit.clinic.pk})

    response = client.post(url, {"action": "cancel", "kit_order": ordered_kit.kit.pk, "reason": ""})

    assert response.status_code == 400
    assert "reason" in response.content.decode()
    assert_nothing_cancelled(ordered_kit)


@pytest.mark.parametrize("action", ["order", "standing"])
@pytest.mark.parametrize(
    "changes, field",
    [
        ({"shipping_name": "x" * 500}, "shipping name"),
        ({"shipping_line1": "x" * 201}, "shipping line1"),
        ({"shipping_city": "x" * 101}, "shipping city"),
        ({"shipping_state": "x" * 51}, "shipping state"),
        ({"shipping_postal_code": "0" * 21}, "shipping postal code"),
        ({"shipping_phone": "5" * 31}, "shipping phone"),
        ({"shipping_country": "USA"}, "shipping country"),
        ({"pump": "abc"}, "pump"),
    ],
)
def test_a_bad_page_value_is_a_form_error_naming_the_field_and_saves_nothing(client, page, action, changes, field):
    client.force_login(page.staff)

    response = client.post(page.url, {"action": action, "pump": page.pump.pk, **SHIPPING, **changes})

    assert response.status_code == 400
    assert f"{field}: " in response.content.decode()
    assert not KitOrder.objects.exists() and not StandingOrder.objects.exists()


@pytest.mark.parametrize("field", ["shipping_name", "shipping_city", "pump", "reason"])
def test_a_nul_character_in_a_page_field_is_a_400_naming_it(client, page, field):
    client.force_login(page.staff)
    data = {"action": "order", "pump": str(page.pump.pk), "reason": "x", **SHIPPING}
    data[field] = f"{data[field]}\x00"

    response = client.post(page.url, data)

    assert response.status_code == 400
    assert f"{field}: NUL characters" in response.content.decode()
    assert not KitOrder.objects.exists()


def test_a_lower_case_country_code_is_stored_upper_case(client, page):
    client.force_login(page.staff)

    response = client.post(page.url, {"action": "standing", "pump": page.pump.pk, "shipping_country": "ca", **SHIPPING})

    assert response.status_code == 302
    assert StandingOrder.objects.get().shipping_country == "CA"


@pytest.mark.parametrize("kit_order", ["abc", "999999", ""])
def test_a_page_cancel_of_no_such_kit_shows_the_error_and_changes_nothing(client, ordered_kit, kit_order):
    client.force_login(ordered_kit.staff)
    url = reverse("pumps:clinic-kits", kwargs={"clinic_id": ordered_kit.clinic.pk})

    response = client.post(url, {"action": "cancel", "kit_order": kit_order, "reason": CANCEL_REASON})

    assert response.status_code == 400
    assert "kit order: Choose one of this clinic" in response.content.decode()
    assert_nothing_cancelled(ordered_kit)
