"""Refill-kit back office (pumps.admin.kits): pharmacy staff only, what is shown audited; lists load, the
resolve action closes alerts, history is read-only."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pumps.models import KitAlert, KitAlertEscalation
from pumps.services.kits.alerts import kit_alert_raise
from pumps.services.kits.orders import kit_order_create, standing_order_set
from rx.models import AuditLog
from tests.core.factories import UserFactory
from tests.pumps.fixtures import SHIP, clinic_with_staff, due_pump, intrathecal_rx, kit_product, ny, pharmacist


def test_admin_lists_kits_and_resolves_alerts_with_the_action(client, db):
    kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    kit_order_create(pump=pump, user=staff, shipping=SHIP, now=ny(2025, 3, 1, 9, 0))
    alert, _ = kit_alert_raise(pump=pump, reason="no_order", message="No kit.")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    for name in ("kitorder", "standingorder", "kitalert", "kitalertescalation"):
        assert client.get(reverse(f"admin:pumps_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:pumps_kitalert_change", args=[alert.pk])).status_code == 200

    response = client.post(
        reverse("admin:pumps_kitalert_changelist"), {"action": "resolve", "_selected_action": [alert.pk]}
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolved_by == admin
    assert client.get(reverse("admin:pumps_kitalertescalation_add")).status_code == 403
    assert KitAlertEscalation.objects.count() == 1
    assert KitAlert.objects.count() == 1


KIT_PAGES = ("kitorder", "standingorder", "kitalert", "kitalertescalation")


def _kit_records():
    """A kit order with an alert and its first escalation notice, and a standing order, for one pump."""
    kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    kit = kit_order_create(pump=pump, user=staff, shipping=SHIP, now=ny(2025, 3, 1, 9, 0))
    alert, _ = kit_alert_raise(pump=pump, reason="no_order", message="No kit.")
    standing = standing_order_set(pump=pump, user=staff, active=True, shipping=SHIP)
    return {
        "kitorder": kit,
        "standingorder": standing,
        "kitalert": alert,
        "kitalertescalation": KitAlertEscalation.objects.get(alert=alert),
    }


def _with_pumps_view_permissions(user):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="pumps", codename__startswith="view_"))
    return user


@pytest.mark.parametrize("with_view_permissions", [False, True])
def test_kit_pages_are_closed_to_staff_who_are_not_pharmacy_staff(client, db, with_view_permissions):
    records = _kit_records()
    support = UserFactory(is_staff=True)
    if with_view_permissions:
        _with_pumps_view_permissions(support)
    client.force_login(support)

    for name, record in records.items():
        assert client.get(reverse(f"admin:pumps_{name}_changelist")).status_code == 403, name
        response = client.get(reverse(f"admin:pumps_{name}_change", args=[record.pk]))
        assert response.status_code in (302, 403), name
    assert not AuditLog.objects.filter(object_type__startswith="pumps.").exists()


def test_kit_pages_audit_what_they_show_to_pharmacy_staff(client, db):
    records = _kit_records()
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    for name, record in records.items():
        assert client.get(reverse(f"admin:pumps_{name}_changelist")).status_code == 200, name
        assert client.get(reverse(f"admin:pumps_{name}_change", args=[record.pk])).status_code == 200, name

    rows = set(AuditLog.objects.filter(user=admin, action="view").values_list("object_type", "object_id", "detail"))
    for name, record in records.items():
        assert (f"pumps.{name}", str(record.pk), "admin list") in rows, name
        assert (f"pumps.{name}", str(record.pk), "admin") in rows, name


def test_a_pharmacist_sees_only_the_kit_orders_of_the_pumps_they_may_see(client, db):
    records = _kit_records()
    kit = records["kitorder"]
    reader = _with_pumps_view_permissions(pharmacist())
    client.force_login(reader)
    changelist = reverse("admin:pumps_kitorder_changelist")

    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:pumps_kitorder_change", args=[kit.pk])).status_code == 302  # "does not exist"
    assert not AuditLog.objects.filter(object_type="pumps.kitorder").exists()

    intrathecal_rx(kit.pump.patient, kit.product)  # in the verification queue: the patient is in their scope
    assert client.get(reverse("admin:pumps_kitorder_change", args=[kit.pk])).status_code == 200
    assert AuditLog.objects.filter(object_type="pumps.kitorder", object_id=str(kit.pk), user=reader).exists()
    # Alerts are the pharmacy staff's to handle, whoever's pump they are about.
    assert client.get(reverse("admin:pumps_kitalert_change", args=[records["kitalert"].pk])).status_code == 200
