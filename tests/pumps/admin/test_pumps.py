"""The pump back office (pumps.admin.pumps): pharmacy staff only, changes through the services (the
schedule recomputed), the stored schedule read-only, what is shown and saved audited."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pumps.models import Pump
from rx.models import AuditLog
from tests.core.factories import UserFactory
from tests.pumps.fixtures import make_pump

pytestmark = pytest.mark.django_db


def _inline_management(prefix, total, initial):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_admin_refill_inline_goes_through_the_service_and_recomputes(client, clinic_pumps):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    pump = clinic_pumps["fine"]
    url = reverse("admin:pumps_pump_change", args=[pump.pk])
    assert client.get(url).status_code == 200
    filled_at = timezone.now() - timedelta(hours=2)
    appointment = pump.appointments.get()
    data = {
        "patient": pump.patient_id,
        "manufacturer": pump.manufacturer,
        "model": pump.model,
        "serial_number": pump.serial_number,
        "reservoir_volume_ml": "20",
        "alarm_volume_ml": "2",
        "implanted_on": "2024-06-01",
        "active": "on",
        "notes": "",
        **_inline_management("programs", 1, 1),
        "programs-0-id": pump.programs.get().pk,
        "programs-0-pump": pump.pk,
        **_inline_management("refills", 2, 1),
        "refills-0-id": pump.refills.get().pk,
        "refills-0-pump": pump.pk,
        "refills-1-pump": pump.pk,
        "refills-1-filled_at_0": timezone.localtime(filled_at).strftime("%Y-%m-%d"),
        "refills-1-filled_at_1": timezone.localtime(filled_at).strftime("%H:%M:%S"),
        "refills-1-volume_filled_ml": "18",
        "refills-1-concentration_mcg_per_ml": "2000",
        "refills-1-residual_withdrawn_ml": "1.5",
        "refills-1-notes": "",
        **_inline_management("appointments", 1, 1),
        "appointments-0-id": appointment.pk,
        "appointments-0-pump": pump.pk,
        "appointments-0-scheduled_at_0": timezone.localtime(appointment.scheduled_at).strftime("%Y-%m-%d"),
        "appointments-0-scheduled_at_1": timezone.localtime(appointment.scheduled_at).strftime("%H:%M:%S"),
        "appointments-0-status": "scheduled",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    pump.refresh_from_db()
    assert pump.refills.count() == 2
    assert pump.current_refill.volume_filled_ml == Decimal("18")
    # 16 mL above the alarm at 0.25 mL/day: the alarm moves to 64 days after the new refill.
    assert abs(pump.alarm_at - (filled_at + timedelta(days=64))) < timedelta(seconds=1)
    assert pump.appointments.get().status == "scheduled"  # weeks away: not covered by this refill


def test_admin_refill_over_the_reservoir_is_refused(client, clinic_pumps):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    pump = clinic_pumps["fine"]
    url = reverse("admin:pumps_pump_change", args=[pump.pk])
    appointment = pump.appointments.get()
    data = {
        "patient": pump.patient_id,
        "manufacturer": pump.manufacturer,
        "model": pump.model,
        "serial_number": pump.serial_number,
        "reservoir_volume_ml": "20",
        "alarm_volume_ml": "2",
        "implanted_on": "2024-06-01",
        "active": "on",
        "notes": "",
        **_inline_management("programs", 1, 1),
        "programs-0-id": pump.programs.get().pk,
        "programs-0-pump": pump.pk,
        **_inline_management("refills", 2, 1),
        "refills-0-id": pump.refills.get().pk,
        "refills-0-pump": pump.pk,
        "refills-1-pump": pump.pk,
        "refills-1-filled_at_0": timezone.localdate().strftime("%Y-%m-%d"),
        "refills-1-filled_at_1": "00:00:01",
        "refills-1-volume_filled_ml": "25",
        "refills-1-concentration_mcg_per_ml": "2000",
        "refills-1-residual_withdrawn_ml": "0",
        "refills-1-notes": "",
        **_inline_management("appointments", 1, 1),
        "appointments-0-id": appointment.pk,
        "appointments-0-pump": pump.pk,
        "appointments-0-scheduled_at_0": timezone.localtime(appointment.scheduled_at).strftime("%Y-%m-%d"),
        "appointments-0-scheduled_at_1": timezone.localtime(appointment.scheduled_at).strftime("%H:%M:%S"),
        "appointments-0-status": "scheduled",
    }
    response = client.post(url, data)
    assert response.status_code == 200  # the form is shown again with the error
    assert "The reservoir holds 20" in response.content.decode()
    assert Pump.objects.get(pk=pump.pk).refills.count() == 1


def test_admin_shows_the_schedule_read_only(client, clinic_pumps):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:pumps_pump_change", args=[clinic_pumps["late"].pk])).content.decode()
    assert 'name="ship_by"' not in html and "Refill schedule (computed)" in html
    assert "on or after the alarm date" in html


def test_pump_admin_is_closed_to_staff_without_the_pharmacist_group_and_audits_its_list(db):
    pump = make_pump()
    support = UserFactory(username="support", is_staff=True)
    support.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="pumps", codename__in=["view_pump", "change_pump"])
    )
    client = Client()
    client.force_login(support)
    assert client.get("/admin/pumps/pump/").status_code == 403
    assert client.get(f"/admin/rx/pump/{pump.pk}/change/").status_code in (302, 403, 404)
    assert not AuditLog.objects.filter(object_type="pumps.pump").exists()

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/pumps/pump/").status_code == 200
    assert AuditLog.objects.filter(
        object_type="pumps.pump", object_id=str(pump.pk), user=admin, detail="admin list"
    ).exists()


def test_the_admin_audits_the_change_form_it_shows_and_each_save(client, clinic_pumps):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    pump = clinic_pumps["fine"]
    url = reverse("admin:pumps_pump_change", args=[pump.pk])
    client.get(url)
    data = {
        "patient": pump.patient_id,
        "manufacturer": pump.manufacturer,
        "model": pump.model,
        "serial_number": pump.serial_number,
        "reservoir_volume_ml": "20",
        "alarm_volume_ml": "3",
        "implanted_on": "2024-06-01",
        "active": "on",
        "notes": "",
        **_inline_management("programs", 0, 0),
        **_inline_management("refills", 0, 0),
        **_inline_management("appointments", 0, 0),
    }

    assert client.post(url, data).status_code == 302

    rows = list(AuditLog.objects.filter(user=admin_user).order_by("id").values_list("action", "object_id", "detail"))
    assert rows == [("view", str(pump.pk), "admin"), ("change", str(pump.pk), "admin")]
    pump.refresh_from_db()
    assert pump.alarm_volume_ml == Decimal("3")
