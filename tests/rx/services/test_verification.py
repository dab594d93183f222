"""Pharmacist decisions: override reasons, who may decide, immutability, e-mails, transitions."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.models import ImmutableRecordError
from rx.models import Decision, Finding, Prescription, PrescriptionEvent
from rx.services import verification
from rx.services.prescriptions import InvalidTransition, prescription_transition
from rx.services.verification import (
    NotPharmacist,
    OverrideReasonsRequired,
    SelfVerificationForbidden,
    prescription_approve,
    prescription_reject,
    prescription_request_information,
)
from tests.core.factories import UserFactory
from tests.rx.factories import PatientFactory
from tests.rx.prescription_helpers import make_rx

pytestmark = pytest.mark.django_db
Status = Prescription.Status


@pytest.fixture
def high_dose_rx(clinical, cast):
    return make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("30"), user=cast.shopper_a)


def test_approval_is_refused_while_a_high_finding_has_no_override_reason(high_dose_rx, cast):
    with pytest.raises(OverrideReasonsRequired) as excinfo:
        prescription_approve(prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist)
    assert excinfo.value.data["findings"][0]["code"] == "HD"
    high_dose_rx.refresh_from_db()
    assert high_dose_rx.status == Status.RECEIVED
    assert not Decision.objects.exists()
    assert not Finding.objects.filter(overridden=True).exists()


def test_blank_override_reason_does_not_count(high_dose_rx, cast):
    with pytest.raises(OverrideReasonsRequired):
        prescription_approve(prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist, overrides={"HD": "   "})


def test_approval_with_reasons_records_overrides_on_findings_and_decision(high_dose_rx, cast):
    prescription_transition(prescription=high_dose_rx, to_status=Status.IN_REVIEW)
    hd = high_dose_rx.findings.get(code="HD")
    decision = prescription_approve(
        prescription_id=high_dose_rx.pk,
        pharmacist=cast.pharmacist,
        overrides={hd.pk: "Prescriber confirmed 90 mg/day by phone."},
    )
    high_dose_rx.refresh_from_db()
    hd.refresh_from_db()
    assert high_dose_rx.status == Status.APPROVED
    assert hd.overridden and hd.overridden_by == cast.pharmacist and "confirmed" in hd.override_reason
    assert decision.action == Decision.Action.APPROVE
    assert decision.overrides == [
        {
            "finding": hd.pk,
            "code": "HD",
            "severity": "high",
            "message": hd.message,
            "reason": "Prescriber confirmed 90 mg/day by phone.",
        }
    ]
    assert list(high_dose_rx.events.values_list("to_status", flat=True)) == ["received", "in_review", "approved"]


def test_approval_without_findings_needs_no_reason(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet)
    assert not rx.findings.exists()
    prescription_approve(prescription_id=rx.pk, pharmacist=cast.pharmacist)
    rx.refresh_from_db()
    assert rx.status == Status.APPROVED


def test_untranscribed_prescription_cannot_be_approved(clinical, cast):
    from rx.services.prescriptions import prescription_create

    rx = prescription_create(user=cast.shopper_a, patient=cast.patient_a, source=Prescription.Source.TRANSFER)
    with pytest.raises(ValidationError) as excinfo:
        prescription_approve(prescription_id=rx.pk, pharmacist=cast.pharmacist)
    assert {"prescriber", "drug", "quantity"} <= set(excinfo.value.message_dict)
    assert not Decision.objects.exists()


def test_controlled_drug_is_approved_only_with_the_prescribers_dea_number(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.morphine_tablet, refills_authorized=0)
    with pytest.raises(ValidationError) as excinfo:
        prescription_approve(prescription_id=rx.pk, pharmacist=cast.pharmacist, overrides={"PN": "Called the office."})
    assert "DEA" in excinfo.value.message_dict["prescriber"][0]
    assert not Decision.objects.exists()
    rx.prescriber.dea_number = "AS1234563"
    rx.prescriber.save()
    prescription_approve(prescription_id=rx.pk, pharmacist=cast.pharmacist, overrides={"PN": "DEA added."})
    rx.refresh_from_db()
    assert rx.status == Status.APPROVED


@pytest.mark.parametrize("who", ["shopper_a", "clinician_a", "admin", "staff"])
def test_only_pharmacists_can_decide(high_dose_rx, cast, who):
    user = UserFactory(is_staff=True) if who == "staff" else getattr(cast, who)
    for call in (
        lambda: prescription_approve(prescription_id=high_dose_rx.pk, pharmacist=user, overrides={"HD": "ok"}),
        lambda: prescription_reject(prescription_id=high_dose_rx.pk, pharmacist=user, reason="no"),
        lambda: prescription_request_information(prescription_id=high_dose_rx.pk, pharmacist=user, message="?"),
    ):
        with pytest.raises(NotPharmacist):
            call()
    assert not Decision.objects.exists()
    high_dose_rx.refresh_from_db()
    assert high_dose_rx.status == Status.RECEIVED


def test_pharmacist_cannot_verify_their_own_patient_record(clinical, cast):
    own = make_rx(PatientFactory(account=cast.pharmacist), clinical.tablet)
    with pytest.raises(SelfVerificationForbidden) as excinfo:
        prescription_approve(prescription_id=own.pk, pharmacist=cast.pharmacist)
    assert "own patient record" in excinfo.value.message
    assert not Decision.objects.exists()


def test_pharmacist_cannot_verify_a_prescription_they_submitted(clinical, cast):
    rx = make_rx(cast.patient_ca, clinical.tablet, user=cast.pharmacist)
    with pytest.raises(SelfVerificationForbidden):
        prescription_reject(prescription_id=rx.pk, pharmacist=cast.pharmacist, reason="x")


SELF_CHECK_CALLS: list = []
SELF_CHECK_BLOCKS: set = set()


def placed_the_order(prescription, user):
    """A stand-in for the shop's RX_SELF_VERIFICATION_CHECKS entry (named by dotted path below)."""
    SELF_CHECK_CALLS.append((prescription.pk, user.pk))
    return user.pk in SELF_CHECK_BLOCKS


def test_registered_self_verification_check_blocks_the_pharmacist(clinical, cast, settings):
    """The shop names 'this pharmacist placed the order' in RX_SELF_VERIFICATION_CHECKS."""
    rx = make_rx(cast.patient_a, clinical.tablet)
    calls = SELF_CHECK_CALLS
    calls.clear()
    SELF_CHECK_BLOCKS.clear()
    SELF_CHECK_BLOCKS.add(cast.pharmacist.pk)
    settings.RX_SELF_VERIFICATION_CHECKS = [f"{__name__}.placed_the_order"]
    with pytest.raises(SelfVerificationForbidden) as excinfo:
        prescription_approve(prescription_id=rx.pk, pharmacist=cast.pharmacist)
    assert "placed an order" in excinfo.value.message
    assert calls == [(rx.pk, cast.pharmacist.pk)]
    other = UserFactory(is_staff=True)
    other.groups.add(verification.pharmacist_group())
    prescription_approve(prescription_id=rx.pk, pharmacist=other)
    rx.refresh_from_db()
    assert rx.status == Status.APPROVED


def test_rejection_needs_a_reason_and_is_final(high_dose_rx, cast):
    with pytest.raises(ValidationError):
        prescription_reject(prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist, reason=" ")
    prescription_reject(
        prescription_id=high_dose_rx.pk,
        pharmacist=cast.pharmacist,
        reason="The prescription is illegible; please upload a clearer photo.",
    )
    high_dose_rx.refresh_from_db()
    assert high_dose_rx.status == Status.REJECTED
    with pytest.raises(Exception) as excinfo:
        prescription_approve(prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist, overrides={"HD": "x"})
    assert excinfo.value.code == "already_decided"
    assert Decision.objects.count() == 1


def test_request_information_waits_and_can_come_back_to_review(high_dose_rx, cast):
    prescription_request_information(
        prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist, message="Please confirm the dose with your doctor."
    )
    high_dose_rx.refresh_from_db()
    assert high_dose_rx.status == Status.NEEDS_INFORMATION
    prescription_approve(
        prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist, overrides={"HD": "Doctor confirmed."}
    )
    high_dose_rx.refresh_from_db()
    assert high_dose_rx.status == Status.APPROVED
    assert list(Decision.objects.values_list("action", flat=True)) == ["request_info", "approve"]


def test_transitions_not_declared_are_refused_and_write_no_event(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet)
    with pytest.raises(InvalidTransition):
        prescription_transition(prescription=rx, to_status=Status.APPROVED)
    rx.refresh_from_db()
    assert rx.status == Status.RECEIVED
    assert PrescriptionEvent.objects.filter(prescription=rx).count() == 1


def test_status_cannot_be_written_back_by_saving_a_stale_copy(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet)
    stale = Prescription.objects.get(pk=rx.pk)
    prescription_approve(prescription_id=rx.pk, pharmacist=cast.pharmacist)
    stale.sig = "take one tablet three times a day"
    stale.save()
    rx.refresh_from_db()
    assert rx.status == Status.APPROVED and rx.sig.startswith("take one")


# --- immutability ---------------------------------------------------------------------------------


def test_decisions_cannot_be_changed_or_deleted(high_dose_rx, cast):
    decision = prescription_reject(prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist, reason="Illegible.")
    decision.message = "Something else"
    with pytest.raises(ImmutableRecordError):
        decision.save()
    with pytest.raises(ImmutableRecordError):
        decision.delete()
    with pytest.raises(ImmutableRecordError):
        Decision.objects.filter(pk=decision.pk).update(message="x")
    with pytest.raises(ImmutableRecordError):
        Decision.objects.all().delete()
    assert Decision.objects.get().message == "Illegible."


# --- e-mails --------------------------------------------------------------------------------------


def test_shopper_is_emailed_on_approval(clinical, cast, django_capture_on_commit_callbacks, mailoutbox):
    rx = make_rx(cast.patient_a, clinical.tablet)
    with django_capture_on_commit_callbacks(execute=True):
        prescription_approve(prescription_id=rx.pk, pharmacist=cast.pharmacist)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [cast.shopper_a.email]
    assert "approved" in mailoutbox[0].subject


def test_shopper_is_emailed_the_rejection_reason(high_dose_rx, cast, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        prescription_reject(
            prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist, reason="The prescription has expired."
        )
    assert len(mailoutbox) == 1 and "The prescription has expired." in mailoutbox[0].body


def test_clinic_is_emailed_the_information_request(clinical, cast, django_capture_on_commit_callbacks, mailoutbox):
    rx = make_rx(cast.patient_ca, clinical.tablet, user=cast.clinician_a)
    with django_capture_on_commit_callbacks(execute=True):
        prescription_request_information(
            prescription_id=rx.pk, pharmacist=cast.pharmacist, message="What is the patient's weight?"
        )
    assert mailoutbox[0].to == [cast.clinic_a.email]
    assert "What is the patient's weight?" in mailoutbox[0].body


def test_no_email_when_the_decision_is_refused(high_dose_rx, cast, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(OverrideReasonsRequired):
        prescription_approve(prescription_id=high_dose_rx.pk, pharmacist=cast.pharmacist)
    assert mailoutbox == []


def test_decision_signal_is_sent_after_commit(clinical, cast, django_capture_on_commit_callbacks):
    from rx.signals import prescription_decided, prescription_status_changed

    rx = make_rx(cast.patient_a, clinical.tablet)
    decided, moved = [], []
    prescription_decided.connect(lambda **kw: decided.append(kw), weak=False, dispatch_uid="t1")
    prescription_status_changed.connect(lambda **kw: moved.append(kw["to_status"]), weak=False, dispatch_uid="t2")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            prescription_approve(prescription_id=rx.pk, pharmacist=cast.pharmacist)
        assert decided == []
        for callback in callbacks:
            callback()
    finally:
        prescription_decided.disconnect(dispatch_uid="t1")
        prescription_status_changed.disconnect(dispatch_uid="t2")
    assert decided[0]["prescription_id"] == rx.pk and decided[0]["action"] == "approve"
    assert moved == ["in_review", "approved"]
