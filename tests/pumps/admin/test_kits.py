"""Refill-kit back office (pumps.admin.kits): lists load, the resolve action closes alerts, history is read-only."""

from django.urls import reverse

from pumps.models import KitAlert, KitAlertEscalation
from pumps.services.kits.alerts import kit_alert_raise
from pumps.services.kits.orders import kit_order_create
from tests.core.factories import UserFactory
from tests.pumps.fixtures import SHIP, clinic_with_staff, due_pump, kit_product, ny


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
