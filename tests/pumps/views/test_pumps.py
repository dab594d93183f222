"""The clinic pump pages (pumps.views.pumps): the dashboard riskiest first, each pump's picture, who may
see them (others get 404, anonymous visitors the sign-in page) and their audit rows."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from rx.access import PHARMACIST_GROUP
from rx.models import AuditLog, Prescription
from tests.core.factories import UserFactory
from tests.pumps.fixtures import make_pump
from tests.rx.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


def test_dashboard_lists_the_clinics_pumps_riskiest_first(client, clinic_pumps):
    client.force_login(clinic_pumps["staff"])
    response = client.get(reverse("pumps:clinic-pumps", args=[clinic_pumps["clinic"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 pump at risk" in html
    assert html.index(clinic_pumps["late"].serial_number) < html.index(clinic_pumps["fine"].serial_number)
    assert "on or after the alarm date" in html
    assert AuditLog.objects.filter(user=clinic_pumps["staff"], object_type="pumps.pump", action="view").count() == 2


def test_pump_page_draws_the_chart_with_every_marker(client, clinic_pumps):
    client.force_login(clinic_pumps["staff"])
    response = client.get(reverse("pumps:pump-detail", args=[clinic_pumps["late"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'role="img"' in html
    for text in (
        "Low-reservoir alarm 2 mL",
        "Alarm ",
        "Empty ",
        "180-day limit",
        "LATE Appointment",
        "Kit arrives",
        "Critical: this patient",
    ):
        assert text in html, text
    fine = client.get(reverse("pumps:pump-detail", args=[clinic_pumps["fine"].pk])).content.decode()
    assert "On track" in fine and "LATE" not in fine


def test_other_clinic_staff_get_404_and_anonymous_are_sent_to_login(client, clinic_pumps):
    client.force_login(clinic_pumps["other_staff"])
    assert client.get(reverse("pumps:pump-detail", args=[clinic_pumps["late"].pk])).status_code == 404
    assert client.get(reverse("pumps:clinic-pumps", args=[clinic_pumps["clinic"].pk])).status_code == 404
    client.logout()
    response = client.get(reverse("pumps:pump-detail", args=[clinic_pumps["late"].pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_pharmacist_reads_the_pages(client, clinic_pumps):
    pharmacist = UserFactory()
    pharmacist.groups.add(Group.objects.get_or_create(name=PHARMACIST_GROUP)[0])
    client.force_login(pharmacist)
    assert client.get(reverse("pumps:pump-detail", args=[clinic_pumps["late"].pk])).status_code == 404
    PrescriptionFactory(patient=clinic_pumps["late"].patient, status=Prescription.Status.IN_REVIEW)
    assert client.get(reverse("pumps:pump-detail", args=[clinic_pumps["late"].pk])).status_code == 200
    assert client.get(reverse("pumps:clinics")).status_code in (200, 302)


def test_pump_without_history_has_no_chart_but_says_why(client, clinic_pumps):
    pump = make_pump(clinic_pumps["clinic"])
    client.force_login(clinic_pumps["staff"])
    html = client.get(reverse("pumps:pump-detail", args=[pump.pk])).content.decode()
    assert "cannot be drawn" in html and "<svg xmlns" not in html


def test_the_pages_write_one_view_row_per_pump_shown(client, clinic_pumps):
    client.force_login(clinic_pumps["staff"])
    late, fine = clinic_pumps["late"], clinic_pumps["fine"]
    client.get(reverse("pumps:clinic-pumps", args=[clinic_pumps["clinic"].pk]))
    client.get(reverse("pumps:pump-detail", args=[late.pk]))

    rows = list(
        AuditLog.objects.filter(user=clinic_pumps["staff"]).order_by("id").values_list("action", "object_id", "detail")
    )
    dashboard = f"clinic {clinic_pumps['clinic'].pk} pump dashboard"
    assert sorted(rows[:2]) == sorted([("view", str(late.pk), dashboard), ("view", str(fine.pk), dashboard)])
    assert rows[2:] == [("view", str(late.pk), "pump page")]
