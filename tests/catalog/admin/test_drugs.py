"""The drug vocabulary in the back office: terms are listed and edited like any catalogue data."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.models import DrugTerm
from tests.catalog.factories import DrugFactory

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


def test_a_term_differing_only_in_case_is_refused(admin_client):
    DrugTerm.objects.create(name="Xanax", kind="brand", ingredient="alprazolam", classes=["benzodiazepine"])
    response = admin_client.post(
        reverse("admin:catalog_drugterm_add"),
        {"name": "XANAX", "kind": "ingredient", "ingredient": "", "classes": "[]"},
    )
    assert response.status_code == 200 and DrugTerm.objects.count() == 1


@pytest.mark.parametrize("classes", ['{"opioid": true}', '["opioid", 3]', '"opioid"'])
def test_classes_must_be_a_list_of_names(admin_client, classes):
    response = admin_client.post(
        reverse("admin:catalog_drugterm_add"), {"name": "tramadol", "kind": "ingredient", "classes": classes}
    )
    assert response.status_code == 200 and b"list of class names" in response.content
    assert not DrugTerm.objects.exists()


def test_brand_names_of_a_drug_must_be_a_list_of_names():
    drug = DrugFactory.build(brand_names={"Lioresal": 1})
    with pytest.raises(ValidationError, match="list of brand names"):
        drug.full_clean()
