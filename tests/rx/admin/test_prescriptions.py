"""The prescription admin (rx/admin/prescriptions.py): transcribing an upload, and no edits once decided."""

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from rx.models import AuditLog, Prescription
from rx.services.prescriptions import prescription_create
from tests.rx.admin_helpers import admin_form_data
from tests.rx.prescription_helpers import png_bytes

pytestmark = pytest.mark.django_db


def test_pharmacist_transcribes_an_upload_and_findings_follow(
    clinical, cast, pharmacist_client, private_media, prescriber
):
    rx = prescription_create(
        user=cast.shopper_a,
        patient=cast.patient_a,
        source=Prescription.Source.UPLOAD,
        file=ContentFile(png_bytes(), name="x.png"),
        file_content_type="image/png",
    )
    url = f"/admin/rx/prescription/{rx.pk}/change/"
    form = pharmacist_client.get(url)
    assert form.status_code == 200 and f'src="/rx/prescriptions/{rx.pk}/file/"' in form.content.decode()
    data = admin_form_data(form)
    data.update(
        {
            "prescriber": prescriber.pk,
            "written_date": timezone.localdate().isoformat(),
            "product": clinical.tablet.pk,
            "dose_amount": "30",
            "dose_unit": "mg",
            "route": "oral",
            "times_per_day": "3",
            "quantity": "270",
            "refills_authorized": "0",
            "days_supply": "30",
            "priority": "0",
        }
    )
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
