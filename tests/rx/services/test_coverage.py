"""Coverage for order gating and fills: what covers a line, what does not, and the refill race."""

import threading
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rx.models import Dispense, Prescription
from rx.services.coverage import (
    PrescriptionExhausted,
    dispense_hand_over,
    prescription_cover_problems,
    prescription_fill,
    prescription_find_cover,
    prescription_fit_problem,
)
from rx.services.prescriptions import prescription_transition
from tests.rx.factories import PrescriberFactory
from tests.rx.prescription_helpers import approve, make_rx

Status = Prescription.Status


@pytest.fixture
def approved(clinical, cast):
    """Approved oral prescription: 90 tablets per fill, 2 refills (3 fills, 270 tablets)."""
    return approve(make_rx(cast.patient_a, clinical.tablet), cast.pharmacist)


@pytest.mark.django_db
def test_approved_prescription_covers_the_product_for_its_patient(approved, clinical, cast):
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.tablet, quantity=90) == approved
    assert prescription_find_cover(patient=cast.patient_a.pk, product=clinical.tablet, quantity=30) == approved


@pytest.mark.django_db
def test_the_fit_rule_names_another_patient_or_another_drug(approved, clinical, cast):
    fit = prescription_fit_problem
    assert fit(prescription=approved, patient_id=cast.patient_a.pk, product=clinical.tablet) is None
    assert fit(prescription=approved, patient_id=None, product=clinical.tablet) is None  # patient not known apart
    assert "another patient" in fit(prescription=approved, patient_id=cast.patient_b.pk, product=clinical.tablet)
    assert "another drug" in fit(prescription=approved, patient_id=cast.patient_a.pk, product=clinical.morphine_tablet)


@pytest.mark.django_db
def test_it_does_not_cover_another_patient_or_drug(approved, clinical, cast):
    assert prescription_find_cover(patient=cast.patient_b, product=clinical.tablet, quantity=30) is None
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.morphine_tablet, quantity=30) is None
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.vial, quantity=1) is None
    assert prescription_cover_problems(patient=cast.patient_a, product=clinical.vial, quantity=1) == [
        f"No prescription for {clinical.vial.name} on file for this patient."
    ]


@pytest.mark.django_db
def test_generic_of_the_same_strength_is_covered_only_when_substitution_is_allowed(clinical, cast):
    allowed = approve(make_rx(cast.patient_a, clinical.tablet), cast.pharmacist)
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.generic_tablet, quantity=30) == allowed
    strict = approve(make_rx(cast.patient_b, clinical.tablet, substitution_allowed=False), cast.pharmacist)
    assert prescription_find_cover(patient=cast.patient_b, product=clinical.generic_tablet, quantity=30) is None
    assert prescription_find_cover(patient=cast.patient_b, product=clinical.tablet, quantity=30) == strict


@pytest.mark.django_db
def test_prescriptions_waiting_for_review_or_rejected_do_not_cover(clinical, cast):
    waiting = make_rx(cast.patient_a, clinical.tablet)
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.tablet, quantity=30) is None
    problems = prescription_cover_problems(patient=cast.patient_a, product=clinical.tablet, quantity=30)
    assert problems == [f"Prescription {waiting.pk}: waiting for pharmacist verification."]
    prescription_transition(prescription=waiting, to_status=Status.REJECTED)
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.tablet, quantity=30) is None


@pytest.mark.django_db
def test_expired_prescription_does_not_cover(approved, clinical, cast):
    after = approved.expires_on + timedelta(days=1)
    assert (
        prescription_find_cover(patient=cast.patient_a, product=clinical.tablet, quantity=30, on=approved.expires_on)
        == approved
    )
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.tablet, quantity=30, on=after) is None
    assert (
        "expired"
        in prescription_cover_problems(patient=cast.patient_a, product=clinical.tablet, quantity=30, on=after)[0]
    )


@pytest.mark.django_db
def test_line_larger_than_a_fill_or_what_is_left_is_not_covered(approved, clinical, cast):
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.tablet, quantity=91) is None
    assert "at most 90" in prescription_cover_problems(patient=cast.patient_a, product=clinical.tablet, quantity=91)[0]


@pytest.mark.django_db
def test_fills_use_up_quantity_and_refills_until_exhausted(approved, clinical, cast):
    assert (approved.fills_remaining, approved.quantity_remaining) == (3, 270)
    for n in range(3):
        dispense = prescription_fill(prescription_id=approved.pk, quantity=90, reference=f"order:PH-{n}:line:1")
        assert dispense.days_supply == 30 and dispense.product == clinical.tablet
    approved.refresh_from_db()
    assert (approved.fills_remaining, approved.quantity_remaining) == (0, 0)
    assert prescription_find_cover(patient=cast.patient_a, product=clinical.tablet, quantity=1) is None
    with pytest.raises(PrescriptionExhausted) as excinfo:
        prescription_fill(prescription_id=approved.pk, quantity=90, reference="order:PH-9:line:1")
    assert excinfo.value.data["reason"] == "no_fills_left"
    assert excinfo.value.status_code == 409
    assert Dispense.objects.count() == 3


@pytest.mark.django_db
def test_fill_with_the_same_reference_is_idempotent(approved):
    first = prescription_fill(prescription_id=approved.pk, quantity=30, reference="order:PH-1:line:1")
    again = prescription_fill(prescription_id=approved.pk, quantity=30, reference="order:PH-1:line:1")
    approved.refresh_from_db()
    assert first.pk == again.pk and first.days_supply == 10
    assert (approved.fills_remaining, approved.quantity_remaining) == (2, 240)


@pytest.mark.django_db
def test_fill_of_an_unapproved_or_expired_prescription_is_refused(clinical, cast, approved):
    waiting = make_rx(cast.patient_b, clinical.tablet)
    with pytest.raises(PrescriptionExhausted) as excinfo:
        prescription_fill(prescription_id=waiting.pk, quantity=30, reference="r1")
    assert excinfo.value.data["reason"] == "not_approved"
    with pytest.raises(PrescriptionExhausted) as excinfo:
        prescription_fill(
            prescription_id=approved.pk, quantity=30, reference="r2", on=approved.expires_on + timedelta(days=1)
        )
    assert excinfo.value.data["reason"] == "expired"
    assert not Dispense.objects.exists()


@pytest.mark.django_db
def test_schedule_ii_prescription_fills_once_whatever_refills_were_written(clinical, cast):
    doctor = PrescriberFactory(npi="1245319599", dea_number="AS1234563")
    rx = approve(
        make_rx(cast.patient_a, clinical.morphine_tablet, refills_authorized=3, quantity=90, prescriber=doctor),
        cast.pharmacist,
    )
    prescription_fill(prescription_id=rx.pk, quantity=90, reference="first")
    with pytest.raises(PrescriptionExhausted):
        prescription_fill(prescription_id=rx.pk, quantity=90, reference="second")


@pytest.mark.django_db
def test_hand_over_is_never_before_preparation(approved):
    dispense = prescription_fill(prescription_id=approved.pk, quantity=30, reference="r")
    with pytest.raises(Exception) as excinfo:
        dispense_hand_over(dispense_id=dispense.pk, at=dispense.prepared_at - timedelta(minutes=1))
    assert excinfo.value.code == "handed_over_too_early"
    with pytest.raises(IntegrityError), transaction.atomic():
        Dispense.objects.filter(pk=dispense.pk).update(handed_over_at=dispense.prepared_at - timedelta(seconds=1))
    done = dispense_hand_over(dispense_id=dispense.pk)
    assert done.handed_over_at >= done.prepared_at


@pytest.mark.django_db
def test_database_refuses_negative_quantities_left(approved):
    with pytest.raises(IntegrityError), transaction.atomic():
        Prescription.objects.filter(pk=approved.pk).update(quantity_remaining=-1)


@pytest.mark.django_db(transaction=True)
def test_two_fills_racing_for_the_last_refill_one_wins_the_other_gets_the_reason(clinical, cast):
    rx = approve(make_rx(cast.patient_a, clinical.tablet, refills_authorized=0, quantity=90), cast.pharmacist)
    assert rx.fills_remaining == 1
    barrier = threading.Barrier(2)
    results = {}

    def fill(name):
        barrier.wait()
        try:
            results[name] = prescription_fill(prescription_id=rx.pk, quantity=90, reference=f"order:{name}:line:1")
        except PrescriptionExhausted as exc:
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=fill, args=(name,)) for name in ("PH-A", "PH-B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results.values() if isinstance(r, Dispense)]
    losers = [r for r in results.values() if isinstance(r, PrescriptionExhausted)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].data["reason"] == "no_fills_left"
    assert "no refills left" in losers[0].message
    rx.refresh_from_db()
    assert (rx.fills_remaining, rx.quantity_remaining) == (0, 0)
    assert Dispense.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_fills_never_overdraw(clinical, cast):
    rx = approve(
        make_rx(cast.patient_a, clinical.tablet, refills_authorized=2, quantity=30, days_supply=10), cast.pharmacist
    )
    barrier = threading.Barrier(6)
    outcomes = []

    def fill(i):
        barrier.wait()
        try:
            prescription_fill(prescription_id=rx.pk, quantity=30, reference=f"order:{i}")
            outcomes.append("ok")
        except PrescriptionExhausted:
            outcomes.append("exhausted")
        finally:
            connection.close()

    threads = [threading.Thread(target=fill, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rx.refresh_from_db()
    assert outcomes.count("ok") == 3 and outcomes.count("exhausted") == 3
    assert rx.quantity_remaining == 0 and rx.fills_remaining == 0
    assert timezone.now() >= Dispense.objects.latest("prepared_at").prepared_at


@pytest.mark.django_db
def test_cover_is_judged_on_the_pharmacys_day_not_utcs(approved, clinical, cast, settings):
    # 02:00 UTC on 2 December 2026 is 21:00 on 1 December in New York: a prescription expiring on
    # 1 December still covers.
    settings.PHARMACY_TIME_ZONE = "America/New_York"
    Prescription.objects.filter(pk=approved.pk).update(expires_on=date(2026, 12, 1))
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 2, 2, 0, tzinfo=UTC)):
        assert prescription_find_cover(patient=cast.patient_a, product=clinical.tablet, quantity=30) == approved
