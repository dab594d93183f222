"""The kit-alert list API: pharmacy staff only, paginated like every other list (``?page=``)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.api.pagination import PageNumberPagination
from pumps.models import KitAlert
from tests.factories import UserFactory
from tests.pumps.kit_fixtures import due_pump, pharmacist

pytestmark = pytest.mark.django_db

URL = reverse("pumps-api:kit-alerts")


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alerts():
    """Three open alerts on one pump (one per reason), levels 2, 1, 0, and a resolved one."""
    pump = due_pump()
    clinic = pump.patient.clinic
    open_ = [KitAlert.objects.create(pump=pump, clinic=clinic, reason=reason, level=level)
             for reason, level in (("no_order", 0), ("late", 2), ("cannot_arrive", 1))]
    resolved = KitAlert.objects.create(pump=pump, clinic=clinic, reason="no_stock", level=5)
    KitAlert.objects.filter(pk=resolved.pk).update(resolved_at=resolved.opened_at, resolution="done")
    return [open_[1], open_[2], open_[0]]


def test_the_kit_alert_list_is_paginated_highest_level_first(alerts, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    client = client_for(pharmacist())
    first = client.get(URL)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["count"] == 3
    assert [a["id"] for a in body["results"]] == [alerts[0].pk, alerts[1].pk]
    assert body["next"] and body["previous"] is None
    second = client.get(URL, {"page": 2}).json()
    assert [a["id"] for a in second["results"]] == [alerts[2].pk]
    assert second["next"] is None


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
def test_a_malformed_page_is_a_400_naming_page(alerts, page):
    response = client_for(pharmacist()).get(URL, {"page": page})
    assert response.status_code == 400
    assert "page" in response.json()["errors"]


def test_a_page_past_the_end_is_a_404(alerts):
    assert client_for(pharmacist()).get(URL, {"page": 9}).status_code == 404


def test_the_kit_alert_list_has_no_ordering_parameter_so_ordering_is_ignored(alerts):
    response = client_for(pharmacist()).get(URL, {"ordering": "bogus"})
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [a.pk for a in alerts]


def test_anyone_but_pharmacy_staff_gets_404(alerts):
    response = client_for(UserFactory()).get(URL)
    assert response.status_code == 404
    assert "results" not in response.json()
