"""The pumps read queries (pumps.selectors): the due-pump scan through its partial index in a constant
number of queries, and the pumps at risk."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pumps.selectors import pumps_due_for_kit
from tests.pumps.fixtures import clinic_with_staff, make_pump, ny, pumps_with_ship_dates

pytestmark = pytest.mark.django_db

FILL = ny(2025, 1, 6, 10, 0)


def test_due_scan_returns_only_pumps_due_by_the_date():
    early, late, slow = pumps_with_ship_dates()
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 6))) == []
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7))) == [early]
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 4, 30))) == [early, late]
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 12, 31))) == [early, late, slow]


def test_due_scan_takes_one_query_whatever_the_number_of_pumps():
    pumps_with_ship_dates()
    with CaptureQueriesContext(connection) as few:
        rows = [(p.pk, p.patient.clinic.name) for p in pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7))]
    clinic, _ = clinic_with_staff()
    for _ in range(5):
        make_pump(clinic, fill_at=FILL)
    with CaptureQueriesContext(connection) as many:
        more = [(p.pk, p.patient.clinic.name) for p in pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7))]
    assert len(rows) == 1 and len(more) == 6
    assert len(few) == len(many) == 3  # pumps through the index, then their patients and clinics by id


def test_due_scan_uses_the_partial_ship_by_index():
    pumps_with_ship_dates()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is tiny; ask which index fits
        sql, params = pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7)).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "pump_active_ship_by_idx" in plan
