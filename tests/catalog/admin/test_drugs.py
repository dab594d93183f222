"""The drug vocabulary in the back office: terms are listed and edited like any catalogue data."""

import pytest
from django.urls import reverse

from catalog.models import DrugTerm

pytestmark = pytest.mark.django_db


def test_admin_adds_a_brand_term_with_its_classes(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_drugterm_add"),
        {"name": "Xanax", "kind": "brand", "ingredient": "alprazolam", "classes": '["benzodiazepine"]'},
    )
    assert response.status_code == 302
    assert DrugTerm.objects.get(name="Xanax").classes == ["benzodiazepine"]
    listing = admin_client.get(reverse("admin:catalog_drugterm_changelist"))
    assert b"benzodiazepine" in listing.content


def test_a_brand_term_needs_its_ingredient(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_drugterm_add"), {"name": "Xanax", "kind": "brand", "ingredient": "", "classes": "[]"}
    )
    assert response.status_code == 200 and not DrugTerm.objects.exists()
