"""The verification queue and its review page (rx/admin/review.py): order, filters, what the
page shows, deciding, who may."""

from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from rx.models import AuditLog, Decision, Prescriber, Prescription
from rx.services.prescriptions import prescription_mark_urgent, prescription_transfer_request
from tests.core.factories import UserFactory
from tests.rx.admin_helpers import QUEUE, listed, review_url
from tests.rx.factories import PrescriberFactory
from tests.rx.prescription_helpers import approve, make_rx, png_bytes

pytestmark = pytest.mark.django_db
Status = Prescription.Status


def test_queue_lists_waiting_prescriptions_urgent_first_then_oldest(queue, pharmacist_client):
    response = pharmacist_client.get(QUEUE)
    assert response.status_code == 200
    assert queue["urgent"].is_urgent and "Intrathecal" in queue["urgent"].priority_reason
    assert listed(response) == [queue["urgent"].pk, queue["old"].pk, queue["waiting"].pk]


def test_queue_filters_by_status_and_urgency(queue, pharmacist_client):
    assert listed(pharmacist_client.get(QUEUE, {"status": "needs_information"})) == [queue["waiting"].pk]
    assert listed(pharmacist_client.get(QUEUE, {"priority__exact": "1"})) == [queue["urgent"].pk]
    assert listed(pharmacist_client.get(QUEUE, {"priority__exact": "0"})) == [queue["old"].pk, queue["waiting"].pk]


def test_shop_can_move_a_prescription_up_the_queue(queue, pharmacist_client):
    prescription_mark_urgent(prescription_id=queue["waiting"].pk, reason="Pump refill kit order PH-12 waiting")
    assert listed(pharmacist_client.get(QUEUE))[:2] == [queue["waiting"].pk, queue["urgent"].pk]


def test_staff_outside_the_pharmacist_group_cannot_open_the_queue(queue):
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    assert client.get(QUEUE).status_code == 403
    assert client.get(review_url(queue["old"])).status_code == 403


def waiting_lines_panel(prescription, user):
    """A stand-in for the shop's RX_REVIEW_CONTEXT_PROVIDERS entry (named by dotted path in the test)."""
    return {
        "title": "Order lines waiting on this prescription",
        "rows": [{"label": "PH-1234 line 1", "url": "/admin/x/", "detail": f"90 x tablet for Rx {prescription.pk}"}],
    }


def test_review_page_shows_everything_the_pharmacist_needs(clinical, cast, pharmacist_client, settings, private_media):
    cast.patient_a.current_medications_text = "morphine 10 mg at night"
    cast.patient_a.save()
    earlier = approve(make_rx(cast.patient_a, clinical.generic_tablet), cast.pharmacist)
    rx = make_rx(
        cast.patient_a,
        clinical.tablet,
        user=cast.shopper_a,
        source=Prescription.Source.UPLOAD,
        file=ContentFile(png_bytes(), name="x.png"),
        file_content_type="image/png",
        dose_amount=Decimal("30"),
    )
    settings.RX_REVIEW_CONTEXT_PROVIDERS = [f"{__name__}.waiting_lines_panel"]
    response = pharmacist_client.get(review_url(rx))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'src="/rx/prescriptions/{rx.pk}/file/"' in page
    assert "Ann Example" in page and "morphine 10 mg at night" in page
    for code in ("HD", "AT", "TD"):
        assert f"<td>{code}</td>" in page
    assert page.count('name="override_') == rx.findings.count()
    assert "Order lines waiting on this prescription" in page and f"90 x tablet for Rx {rx.pk}" in page
    assert f"<td>{earlier.pk}</td>" in page  # the patient's other prescriptions
    rx.refresh_from_db()
    assert rx.status == Status.IN_REVIEW
    assert AuditLog.objects.filter(
        action="view", object_type="rx.prescription", object_id=str(rx.pk), user=cast.pharmacist
    ).exists()
    assert AuditLog.objects.filter(action="view", object_type="rx.patient", object_id=str(cast.patient_a.pk)).exists()


def test_approving_in_the_admin_needs_a_reason_for_each_high_finding(
    clinical, cast, pharmacist_client, django_capture_on_commit_callbacks, mailoutbox
):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("30"))
    pharmacist_client.get(review_url(rx))
    hd = rx.findings.get(code="HD")
    refused = pharmacist_client.post(review_url(rx), {"action": "approve"})
    assert refused.status_code == 400
    assert "override reason" in refused.content.decode()
    assert not Decision.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = pharmacist_client.post(
            review_url(rx), {"action": "approve", f"override_{hd.pk}": "Titration agreed with Dr Smith."}
        )
    assert response.status_code == 302 and response["Location"] == QUEUE
    rx.refresh_from_db()
    assert rx.status == Status.APPROVED
    assert Decision.objects.get().overrides[0]["reason"] == "Titration agreed with Dr Smith."
    assert len(mailoutbox) == 1


def test_rejecting_and_requesting_information_in_the_admin(clinical, cast, pharmacist_client):
    one = make_rx(cast.patient_a, clinical.tablet)
    two = make_rx(cast.patient_b, clinical.tablet)
    assert pharmacist_client.post(review_url(one), {"action": "reject", "reason": ""}).status_code == 400
    assert pharmacist_client.post(review_url(one), {"action": "reject", "reason": "Expired."}).status_code == 302
    assert (
        pharmacist_client.post(review_url(two), {"action": "request_info", "info_message": "Weight?"}).status_code
        == 302
    )
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, two.status) == (Status.REJECTED, Status.NEEDS_INFORMATION)


def test_superuser_who_is_not_a_pharmacist_sees_but_cannot_decide(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet)
    client = Client()
    client.force_login(cast.admin)
    page = client.get(review_url(rx)).content.decode()
    assert "Only members of the Pharmacist group can decide." in page
    assert 'value="approve"' not in page
    assert client.post(review_url(rx), {"action": "approve"}).status_code == 403
    assert not Decision.objects.exists()


def test_self_verification_is_refused_in_the_admin(clinical, cast, pharmacist_client):
    rx = make_rx(cast.patient_ca, clinical.tablet, user=cast.pharmacist)
    page = pharmacist_client.get(review_url(rx)).content.decode()
    assert "Another pharmacist must verify" in page and 'value="approve"' not in page
    assert pharmacist_client.post(review_url(rx), {"action": "approve"}).status_code == 403
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    "action, field", [("request_info", "info_message"), ("reject", "reason"), ("approve", "message")]
)
def test_a_nul_character_in_a_decision_message_is_a_400_naming_the_field(
    clinical, cast, pharmacist_client, action, field
):
    rx = make_rx(cast.patient_a, clinical.tablet)

    response = pharmacist_client.post(review_url(rx), {"action": action, field: "Weight\x00?"})

    assert response.status_code == 400
    assert f"{field}: NUL characters" in response.content.decode()
    rx.refresh_from_db()
    assert rx.status == Status.RECEIVED and not Decision.objects.exists()


def test_the_review_page_shows_the_pharmacist_the_details_sent_with_the_prescription(cast, pharmacist_client):
    doctor = PrescriberFactory(npi="1234567893", phone="555-0100")
    rx = prescription_transfer_request(
        user=cast.shopper_a,
        patient_id=cast.patient_a.pk,
        prescriber={"name": "Dr A. Smith", "npi": "1234567893", "phone": "555-0199", "fax": "555-0666"},
    )
    html = pharmacist_client.get(review_url(rx)).content.decode()
    assert "As sent with this prescription" in html
    assert "555-0199" in html and "555-0666" in html  # what the shopper sent
    assert "555-0100" in html  # the shared record, unchanged
    assert doctor.phone == Prescriber.objects.get(pk=doctor.pk).phone


def test_the_age_on_the_review_page_is_counted_on_the_pharmacys_day(clinical, cast, pharmacist_client, settings):
    # 02:00 UTC on 2 December 2026 is 21:00 on 1 December in New York: the birthday is tomorrow.
    settings.PHARMACY_TIME_ZONE = "America/New_York"
    cast.patient_a.date_of_birth = date(1980, 12, 2)
    cast.patient_a.save()
    rx = make_rx(cast.patient_a, clinical.tablet)
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 2, 2, 0, tzinfo=UTC)):
        page = pharmacist_client.get(review_url(rx)).content.decode()
    assert "(age 45)" in page
