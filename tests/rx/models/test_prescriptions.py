"""Prescription records: expiry by schedule, fills allowed, amounts left, expiry sweep."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from rx.models import Prescription
from rx.models.prescriptions import prescription_expiry
from rx.services.coverage import prescription_fill
from rx.services.prescriptions import prescriptions_expire
from tests.catalog.factories import DrugFactory, ProductFactory
from tests.rx.factories import PrescriberFactory
from tests.rx.prescription_helpers import approve, make_rx

Status = Prescription.Status
WRITTEN = date(2026, 1, 31)


@pytest.mark.parametrize(
    "schedule, expected",
    [
        ("", WRITTEN + timedelta(days=365)),
        ("V", WRITTEN + timedelta(days=365)),
        ("II", WRITTEN + timedelta(days=365)),
        ("III", date(2026, 7, 31)),
        ("IV", date(2026, 7, 31)),
    ],
)
def test_expiry_follows_the_schedule(schedule, expected, settings):
    settings.RX_NONCONTROLLED_EXPIRY_DAYS = 365
    assert prescription_expiry(written=WRITTEN, schedule=schedule) == expected


def test_non_controlled_expiry_is_a_setting(settings):
    settings.RX_NONCONTROLLED_EXPIRY_DAYS = 90
    assert prescription_expiry(written=WRITTEN, schedule="") == WRITTEN + timedelta(days=90)


@pytest.mark.django_db
def test_prescribers_earlier_validity_end_wins(clinical, cast):
    written = timezone.localdate()
    rx = make_rx(cast.patient_a, clinical.tablet, written_date=written, valid_until=written + timedelta(days=30))
    assert rx.expires_on == written + timedelta(days=30)
    later = make_rx(cast.patient_b, clinical.tablet, written_date=written, valid_until=written + timedelta(days=999))
    assert later.expires_on == written + timedelta(days=365)


@pytest.mark.django_db
def test_total_dispensable_is_quantity_times_refills_plus_one_within_the_legal_limit(cast):
    plain = make_rx(cast.patient_a, ProductFactory(tiers=[]), quantity=30, refills_authorized=5)
    assert (plain.fills_remaining, plain.quantity_remaining) == (6, 180)
    c3 = make_rx(
        cast.patient_a,
        ProductFactory(drug=DrugFactory(dea_schedule="III"), tiers=[]),
        quantity=30,
        refills_authorized=9,
    )
    assert (c3.fills_remaining, c3.quantity_remaining) == (6, 180)
    assert c3.expires_on == c3.written_date + relativedelta(months=6)


@pytest.mark.django_db
def test_a_stale_copy_cannot_give_back_what_was_dispensed(clinical, cast):
    rx = approve(make_rx(cast.patient_a, clinical.tablet), cast.pharmacist)
    stale = Prescription.objects.get(pk=rx.pk)
    prescription_fill(prescription_id=rx.pk, quantity=90, reference="r")
    stale.notes = "edited"
    stale.save()
    rx.refresh_from_db()
    assert (rx.fills_remaining, rx.quantity_remaining, rx.notes) == (2, 180, "edited")


@pytest.mark.django_db
def test_expiry_sweep_marks_expired_prescriptions_once(clinical, cast, settings):
    old = approve(
        make_rx(
            cast.patient_a,
            clinical.tablet,
            written_date=timezone.localdate() - timedelta(days=400),
            prescriber=PrescriberFactory(),
        ),
        cast.pharmacist,
        XP="Fill history reviewed.",
    )
    fresh = approve(make_rx(cast.patient_b, clinical.tablet), cast.pharmacist)
    assert prescriptions_expire() == [old.pk]
    assert prescriptions_expire() == []
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == (Status.EXPIRED, Status.APPROVED)
    assert old.events.last().to_status == Status.EXPIRED


@pytest.mark.django_db
def test_the_expiry_sweep_uses_the_pharmacys_day(clinical, cast, settings):
    # 02:00 UTC on 2 December 2026 is 21:00 on 1 December in New York: expiring on 1 December is
    # still valid there.
    settings.PHARMACY_TIME_ZONE = "America/New_York"
    rx = approve(make_rx(cast.patient_a, clinical.tablet), cast.pharmacist)
    Prescription.objects.filter(pk=rx.pk).update(expires_on=date(2026, 12, 1))
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 2, 2, 0, tzinfo=UTC)):
        assert prescriptions_expire() == []
