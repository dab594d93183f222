"""The catalogue back office: tier validation, NDC normalisation, receiving lots, read-only stock."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import PriceTier, Product, StockLot
from catalog.services import stock
from tests.catalog.factories import DrugFactory, ProductFactory

pytestmark = pytest.mark.django_db


def product_form(product=None, *, drug=None, ndc=None, tiers=(), lots=0, **overrides) -> dict:
    """The POST body of the product change form, with its two inlines."""
    drug = drug or product.drug
    data = {
        "drug": drug.pk,
        "name": product.name if product else "Baclofen 20 mg tablet",
        "slug": product.slug if product else "baclofen-20-mg-tablet",
        "ndc": ndc or (product.ndc if product else "00832-1025-00"),
        "manufacturer": "UPSHER SMITH LA",
        "is_generic": "on",
        "brand_name": "",
        "strength": "20",
        "strength_unit": "mg",
        "strength_text": "20 mg",
        "concentration_mcg_per_ml": "",
        "volume_ml": "",
        "dosage_form": "tablet",
        "route": "oral",
        "selling_unit": "tablet",
        "pack_size": "1",
        "rx_required": "on",
        "is_active": "on",
        "low_stock_threshold": "0",
        "description": "",
        "price_tiers-TOTAL_FORMS": str(len(tiers)),
        "price_tiers-INITIAL_FORMS": "0",
        "price_tiers-MIN_NUM_FORMS": "0",
        "price_tiers-MAX_NUM_FORMS": "1000",
        "lots-TOTAL_FORMS": str(lots),
        "lots-INITIAL_FORMS": str(lots),
        "lots-MIN_NUM_FORMS": "0",
        "lots-MAX_NUM_FORMS": "1000",
    }
    for i, (min_quantity, unit_price) in enumerate(tiers):
        data[f"price_tiers-{i}-min_quantity"] = str(min_quantity)
        data[f"price_tiers-{i}-unit_price"] = str(unit_price)
    data.update(overrides)
    return data


def replace_tiers_form(product, tiers):
    """Turn the product's tiers into ``tiers`` in one change-form POST, as a person would:
    existing rows are edited in place, rows left over are deleted, missing rows are added."""
    existing = list(product.price_tiers.order_by("min_quantity"))
    data = product_form(product, tiers=[])
    forms = []
    for index, tier in enumerate(existing):
        row = {"id": tier.pk, "product": product.pk, "min_quantity": tier.min_quantity, "unit_price": tier.unit_price}
        if index < len(tiers):
            row["min_quantity"], row["unit_price"] = tiers[index]
        else:
            row["DELETE"] = "on"
        forms.append(row)
    for min_quantity, unit_price in tiers[len(existing) :]:
        forms.append({"id": "", "product": product.pk, "min_quantity": min_quantity, "unit_price": unit_price})
    data["price_tiers-TOTAL_FORMS"] = str(len(forms))
    data["price_tiers-INITIAL_FORMS"] = str(len(existing))
    for i, form in enumerate(forms):
        for key, value in form.items():
            data[f"price_tiers-{i}-{key}"] = str(value)
    return data


def tiers_of(product):
    return list(
        PriceTier.objects.filter(product=product).order_by("min_quantity").values_list("min_quantity", "unit_price")
    )


SEED = [(1, Decimal("2.48")), (30, Decimal("2.31")), (90, Decimal("0.17"))]


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([(1, "2.48"), (30, "2.31"), (30, "2.00")], "Price tier with this Product and Min quantity already exists."),
        ([(5, "2.48"), (30, "2.31")], "The first tier must start at quantity 1"),
        ([(1, "2.48"), (30, "0.00")], "Ensure this value is greater than or equal to 0.01."),
        ([(1, "-1")], "Ensure this value is greater than or equal to 0.01."),
        ([(0, "2.48")], "Ensure this value is greater than or equal to 1."),
    ],
)
def test_admin_refuses_overlapping_or_invalid_tiers_and_keeps_the_old_ones(admin_client, tiers, message):
    product = ProductFactory()
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", replace_tiers_form(product, tiers))
    assert response.status_code == 200  # the form again, with the error
    assert message in response.content.decode()
    assert tiers_of(product) == SEED


def test_admin_refuses_two_new_tiers_starting_at_the_same_quantity(admin_client):
    product = ProductFactory(tiers=[])
    response = admin_client.post(
        f"/admin/catalog/product/{product.pk}/change/",
        replace_tiers_form(product, [(1, "2.48"), (30, "2.31"), (30, "2.00")]),
    )
    assert response.status_code == 200
    assert "Please correct the duplicate data for min_quantity" in response.content.decode()
    assert tiers_of(product) == []


def test_admin_replaces_tiers_with_a_valid_schedule(admin_client):
    product = ProductFactory()
    response = admin_client.post(
        f"/admin/catalog/product/{product.pk}/change/", replace_tiers_form(product, [(1, "3.00"), (10, "2.50")])
    )
    assert response.status_code == 302
    assert tiers_of(product) == [(1, Decimal("3.00")), (10, Decimal("2.50"))]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("00832-1025-00", "00832102500"),
        ("0832-1025-00", "00832102500"),
        ("51655-089-52", "51655008952"),
        ("58118-1397-3", "58118139703"),
        ("00832102500", "00832102500"),
    ],
)
def test_admin_accepts_any_ndc_form_and_stores_eleven_digits(admin_client, typed, stored):
    drug = DrugFactory()
    response = admin_client.post("/admin/catalog/product/add/", product_form(drug=drug, ndc=typed))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Product.objects.get().ndc == stored


@pytest.mark.parametrize("typed", ["0083210250", "00832-1025", "ABCDE-1234-56", "008321025001"])
def test_admin_refuses_an_invalid_ndc_and_saves_nothing(admin_client, typed):
    response = admin_client.post("/admin/catalog/product/add/", product_form(drug=DrugFactory(), ndc=typed))
    assert response.status_code == 200
    assert "NDC" in str(response.context["adminform"].form.errors["ndc"])
    assert not Product.objects.exists()


def test_receive_lot_page_adds_stock_through_the_stock_service(admin_client):
    product = ProductFactory()
    url = f"/admin/catalog/product/{product.pk}/receive-lot/"
    assert admin_client.get(url).status_code == 200
    expiry = timezone.localdate() + timedelta(days=400)
    response = admin_client.post(
        url, {"lot_number": " A123 ", "expiry_date": expiry.isoformat(), "quantity": "250"}, follow=True
    )
    assert "Received lot A123: 250 units" in response.content.decode()
    lot = StockLot.objects.get()
    assert (lot.lot_number, lot.expiry_date, lot.quantity_received, lot.quantity_on_hand) == ("A123", expiry, 250, 250)
    assert stock.stock_available(product_ids=[product.pk])[product.pk] == 250


@pytest.mark.parametrize(
    ("lot_number", "days", "quantity", "message"),
    [
        ("A123", 400, "5", "was already received"),
        ("B1", 0, "5", "already expired"),
        ("B1", 400, "0", "Ensure this value is greater than or equal to 1."),
        ("B1", 400, "100001", "A lot holds at most 100000 units."),
    ],
)
def test_receive_lot_page_refuses_bad_lots_and_saves_nothing(admin_client, lot_number, days, quantity, message):
    product = ProductFactory()
    stock.stock_receive(
        product=product, lot_number="A123", expiry_date=timezone.localdate() + timedelta(days=30), quantity=10
    )
    response = admin_client.post(
        f"/admin/catalog/product/{product.pk}/receive-lot/",
        {
            "lot_number": lot_number,
            "expiry_date": (timezone.localdate() + timedelta(days=days)).isoformat(),
            "quantity": quantity,
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(StockLot.objects.values_list("lot_number", "quantity_on_hand")) == [("A123", 10)]


def test_lot_quantities_cannot_be_edited_in_the_admin(admin_client):
    product = ProductFactory(stock=40)
    lot = product.lots.get()
    data = product_form(
        product,
        tiers=[],
        lots=1,
        **{
            "lots-0-id": str(lot.pk),
            "lots-0-product": str(product.pk),
            "lots-0-quantity_on_hand": "5000",
            "lots-0-quantity_received": "5000",
        },
    )
    data = {
        **replace_tiers_form(product, [(1, "2.48"), (30, "2.31"), (90, "0.17")]),
        **{k: v for k, v in data.items() if k.startswith("lots-")},
    }
    admin_client.post(f"/admin/catalog/product/{product.pk}/change/", data)
    lot.refresh_from_db()
    assert (lot.quantity_received, lot.quantity_on_hand) == (40, 40)
    assert admin_client.get("/admin/catalog/stocklot/add/").status_code == 403
    assert admin_client.post(f"/admin/catalog/stocklot/{lot.pk}/change/", {"quantity_on_hand": "1"}).status_code == 403
    lot.refresh_from_db()
    assert lot.quantity_on_hand == 40


def test_back_office_pages_render_for_the_seed_catalogue(admin_client):
    call_command("load_seed_catalogue", stdout=StringIO())
    product = Product.objects.get(ndc="00832102400")
    for url in [
        "/admin/catalog/drug/",
        "/admin/catalog/drug/1/change/".replace("1", str(product.drug_id)),
        "/admin/catalog/product/",
        f"/admin/catalog/product/{product.pk}/change/",
        "/admin/catalog/stocklot/",
        "/admin/catalog/review/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    drug_page = admin_client.get(f"/admin/catalog/drug/{product.drug_id}/change/").content.decode()
    assert "Abrupt discontinuation of intrathecal baclofen" in drug_page  # route inline
    assert "epidural" in drug_page and "Dosage and Administration" in drug_page
    product_page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert "Receive a lot" in product_page and "SEED-UPS-0001" in product_page
    assert "00832-1024-00" in admin_client.get("/admin/catalog/product/").content.decode()
