"""The pharmacist's back office: the verification queue, the review page, deciding, and the
read-only records (decisions)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from rx.models import AuditLog, Decision, Patient, Prescription
from rx.services.prescriptions import prescription_create
from rx.services.verification import prescription_request_information
from tests.factories import UserFactory

from .prescription_helpers import approve, make_rx, png_bytes

pytestmark = pytest.mark.django_db
QUEUE = "/admin/rx/verificationqueueitem/"
Status = Prescription.Status


def review_url(rx):
    return f"{QUEUE}{rx.pk}/change/"


@pytest.fixture
def pharmacist_client(cast):
    client = Client()
    client.force_login(cast.pharmacist)
    return client


@pytest.fixture
def queue(clinical, cast):
    """Oldest routine, a newer urgent intrathecal one, one needing information, one approved."""
    now = timezone.now()
    old = make_rx(cast.patient_a, clinical.tablet, created_at=now - timedelta(days=2))
    urgent = make_rx(cast.patient_ca, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1,
                     quantity=1, created_at=now - timedelta(hours=1))
    waiting = make_rx(cast.patient_b, clinical.tablet, created_at=now - timedelta(days=1))
    prescription_request_information(prescription_id=waiting.pk, pharmacist=cast.pharmacist, message="Dose?")
    done = approve(make_rx(cast.patient_cb, clinical.tablet, created_at=now - timedelta(days=3)), cast.pharmacist)
    return {"old": old, "urgent": urgent, "waiting": waiting, "done": done}


def listed(response):
    return [rx.pk for rx in response.context["cl"].result_list]


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
    from rx.services.prescriptions import prescription_mark_urgent

    prescription_mark_urgent(prescription_id=queue["waiting"].pk, reason="Pump refill kit order PH-12 waiting")
    assert listed(pharmacist_client.get(QUEUE))[:2] == [queue["waiting"].pk, queue["urgent"].pk]


def test_pharmacist_group_exists_with_its_admin_permissions_after_migrate():
    from django.contrib.auth.models import Group

    codenames = set(Group.objects.get(name="Pharmacist").permissions.values_list("codename", flat=True))
    assert {"view_verificationqueueitem", "change_prescription", "view_patient", "view_decision"} <= codenames
    assert not {"delete_prescription", "change_decision", "view_auditlog"} & codenames


def test_staff_outside_the_pharmacist_group_cannot_open_the_queue(queue):
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    assert client.get(QUEUE).status_code == 403
    assert client.get(review_url(queue["old"])).status_code == 403


def waiting_lines_panel(prescription, user):
    """A stand-in for the shop's RX_REVIEW_CONTEXT_PROVIDERS entry (named by dotted path in the test)."""
    return {"title": "Order lines waiting on this prescription",
            "rows": [{"label": "PH-1234 line 1", "url": "/admin/x/",
                      "detail": f"90 x tablet for Rx {prescription.pk}"}]}


def test_review_page_shows_everything_the_pharmacist_needs(clinical, cast, pharmacist_client, settings,
                                                          private_media):
    cast.patient_a.current_medications_text = "morphine 10 mg at night"
    cast.patient_a.save()
    earlier = approve(make_rx(cast.patient_a, clinical.generic_tablet), cast.pharmacist)
    rx = make_rx(cast.patient_a, clinical.tablet, user=cast.shopper_a, source=Prescription.Source.UPLOAD,
                 file=ContentFile(png_bytes(), name="x.png"), file_content_type="image/png",
                 dose_amount=Decimal("30"))
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
    assert AuditLog.objects.filter(action="view", object_type="rx.prescription", object_id=str(rx.pk),
                                   user=cast.pharmacist).exists()
    assert AuditLog.objects.filter(action="view", object_type="rx.patient", object_id=str(cast.patient_a.pk)).exists()


def test_approving_in_the_admin_needs_a_reason_for_each_high_finding(clinical, cast, pharmacist_client,
                                                                     django_capture_on_commit_callbacks, mailoutbox):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("30"))
    pharmacist_client.get(review_url(rx))
    hd = rx.findings.get(code="HD")
    refused = pharmacist_client.post(review_url(rx), {"action": "approve"})
    assert refused.status_code == 400
    assert "override reason" in refused.content.decode()
    assert not Decision.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = pharmacist_client.post(review_url(rx), {"action": "approve",
                                                           f"override_{hd.pk}": "Titration agreed with Dr Smith."})
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
    assert pharmacist_client.post(review_url(two), {"action": "request_info",
                                                    "info_message": "Weight?"}).status_code == 302
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


def admin_form_data(response):
    """The POST data of an admin change form as rendered (main form plus inline formsets)."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = value.pk if hasattr(value, "pk") else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for index, f in enumerate(formset.forms):
            if f.instance.pk:
                data[f"{formset.prefix}-{index}-id"] = f.instance.pk
                data[f"{formset.prefix}-{index}-prescription"] = f.instance.prescription_id
    return {k: ("on" if v is True else "" if v is False else v) for k, v in data.items() if v is not False}


def test_pharmacist_transcribes_an_upload_and_findings_follow(clinical, cast, pharmacist_client, private_media,
                                                              prescriber):
    rx = prescription_create(user=cast.shopper_a, patient=cast.patient_a, source=Prescription.Source.UPLOAD,
                             file=ContentFile(png_bytes(), name="x.png"), file_content_type="image/png")
    url = f"/admin/rx/prescription/{rx.pk}/change/"
    form = pharmacist_client.get(url)
    assert form.status_code == 200 and f'src="/rx/prescriptions/{rx.pk}/file/"' in form.content.decode()
    data = admin_form_data(form)
    data.update({"prescriber": prescriber.pk, "written_date": timezone.localdate().isoformat(),
                 "product": clinical.tablet.pk, "dose_amount": "30", "dose_unit": "mg", "route": "oral",
                 "times_per_day": "3", "quantity": "270", "refills_authorized": "0", "days_supply": "30",
                 "priority": "0"})
    response = pharmacist_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    rx.refresh_from_db()
    assert rx.drug == clinical.baclofen and rx.quantity_remaining == 270 and rx.expires_on
    assert list(rx.findings.values_list("code", flat=True)) == ["HD"]
    assert AuditLog.objects.filter(action="change", object_id=str(rx.pk), user=cast.pharmacist).exists()


def test_decided_prescriptions_cannot_be_edited_in_the_admin(queue, pharmacist_client):
    response = pharmacist_client.get(f"/admin/rx/prescription/{queue['done'].pk}/change/")
    assert response.status_code == 200 and 'name="_save"' not in response.content.decode()
    assert pharmacist_client.post(f"/admin/rx/prescription/{queue['done'].pk}/change/", {}).status_code == 403


def test_staff_without_the_pharmacist_group_gets_no_patient_admin_even_with_model_permissions(clinical, cast):
    client = Client()
    user = UserFactory(username="support", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="rx", codename__in=["view_patient", "change_patient", "add_patient"]))
    client.force_login(user)
    cast.patient_a.account = user
    cast.patient_a.save()
    assert client.get("/admin/rx/patient/").status_code == 403
    assert client.get(f"/admin/rx/patient/{cast.patient_a.pk}/change/").status_code in (302, 403, 404)
    assert not AuditLog.objects.filter(object_type="rx.patient").exists()


def test_staff_with_clinic_permissions_cannot_add_themselves_to_a_clinic(clinical, cast):
    from django.contrib.auth.models import Permission

    from rx.models import ClinicMembership

    user = UserFactory(username="support", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="rx", codename__in=["view_clinic", "change_clinic", "add_clinicmembership",
                                                     "change_clinicmembership"]))
    client = Client()
    client.force_login(user)
    url = f"/admin/rx/clinic/{cast.clinic_b.pk}/change/"
    assert client.get(url).status_code in (302, 403, 404)
    assert not ClinicMembership.objects.filter(user=user).exists()


def _changelist_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_decision_and_dispense_changelists_do_not_query_per_row(queue, clinical, cast, pharmacist_client):
    from rx.services.coverage import prescription_fill

    prescription_fill(prescription_id=queue["done"].pk, quantity=30, reference="test:admin:1")
    urls = ["/admin/rx/decision/", "/admin/rx/dispense/"]
    before = [_changelist_queries(pharmacist_client, url) for url in urls]
    for n, patient in enumerate((cast.patient_a, cast.patient_b), start=2):
        rx = approve(make_rx(patient, clinical.tablet), cast.pharmacist)
        prescription_fill(prescription_id=rx.pk, quantity=30, reference=f"test:admin:{n}")
    assert Decision.objects.count() >= 4
    assert [_changelist_queries(pharmacist_client, url) for url in urls] == before


def test_a_patient_changed_or_added_in_the_admin_gets_one_audit_row_naming_the_fields(cast):
    client = Client()
    client.force_login(cast.admin)
    url = f"/admin/rx/patient/{cast.patient_a.pk}/change/"
    data = admin_form_data(client.get(url))
    data["allergies"] = "penicillin"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert list(AuditLog.objects.filter(object_type="rx.patient", action__in=["change", "create"])
                .values_list("username", "action", "object_id", "detail")) == [
        ("admin", "change", str(cast.patient_a.pk), "admin: allergies")]
    added = admin_form_data(client.get("/admin/rx/patient/add/"))
    added.update(account=cast.shopper_b.pk, first_name="Nia", last_name="New", date_of_birth="2001-02-03")
    assert client.post("/admin/rx/patient/add/", added).status_code == 302
    new = Patient.objects.get(first_name="Nia")
    row = AuditLog.objects.get(object_type="rx.patient", action="create")
    assert (row.object_id, row.user, row.path) == (str(new.pk), cast.admin, "/admin/rx/patient/add/")
    assert row.detail.startswith("admin: ") and "first_name" in row.detail
