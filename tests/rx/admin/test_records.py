"""The records kept as written (rx/admin/records.py): decisions and dispenses, read-only and
without a query per row."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rx.models import Decision
from rx.services.coverage import prescription_fill
from tests.rx.prescription_helpers import approve, make_rx

pytestmark = pytest.mark.django_db


def test_decisions_are_read_only_and_undeletable_in_the_admin(queue, cast):
    decision = Decision.objects.first()
    for user in (cast.pharmacist, cast.admin):
        client = Client()
        client.force_login(user)
        assert client.get(f"/admin/rx/decision/{decision.pk}/change/").status_code == 200
        assert client.post(f"/admin/rx/decision/{decision.pk}/change/", {"message": "x"}).status_code == 403
        assert client.post(f"/admin/rx/decision/{decision.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get("/admin/rx/decision/add/").status_code == 403
    decision.refresh_from_db()
    assert decision.message == "Dose?"


def _changelist_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_decision_and_dispense_changelists_do_not_query_per_row(queue, clinical, cast, pharmacist_client):
    prescription_fill(prescription_id=queue["done"].pk, quantity=30, reference="test:admin:1")
    urls = ["/admin/rx/decision/", "/admin/rx/dispense/"]
    before = [_changelist_queries(pharmacist_client, url) for url in urls]
    for n, patient in enumerate((cast.patient_a, cast.patient_b), start=2):
        rx = approve(make_rx(patient, clinical.tablet), cast.pharmacist)
        prescription_fill(prescription_id=rx.pk, quantity=30, reference=f"test:admin:{n}")
    assert Decision.objects.count() >= 4
    assert [_changelist_queries(pharmacist_client, url) for url in urls] == before
