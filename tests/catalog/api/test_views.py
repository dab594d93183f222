"""The catalogue API under /api/v1/: products, quotes, reviews and staff lot receiving."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import MonographSection, Review, StockLot, StockReservation
from catalog.services.reviews import review_moderate
from catalog.services.stock import stock_available
from tests.catalog.factories import DrugFactory, DrugRouteFactory, ProductFactory, ReviewFactory, StockLotFactory
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/products/"


def detail_url(ndc):
    return f"/api/v1/products/{ndc}/"


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def baclofen():
    """The seed SKU: baclofen 10 mg oral tablet, seed tiers, 1000 tablets in stock."""
    drug = DrugFactory(name="Baclofen", slug="baclofen", active_ingredient="baclofen")
    DrugRouteFactory(drug=drug, route="oral", max_daily_dose=Decimal("80"), min_age_years=12)
    DrugRouteFactory(
        drug=drug,
        route="intrathecal",
        dose_unit="mcg",
        max_daily_dose=Decimal("1000"),
        min_age_years=4,
        black_box_warning="Abrupt discontinuation ... has resulted in death.",
    )
    return ProductFactory(
        drug=drug, name="baclofen 10 mg tablet", slug="baclofen-10-mg-tablet", ndc="00832102400", stock=1000
    )


def names(response):
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def approve(*reviews):
    review_moderate(reviews=reviews, status=Review.Status.APPROVED, moderator=UserFactory(is_staff=True))


# --- list, filters, ordering ----------------------------------------------------------------


def test_list_is_paginated_and_shows_only_active_products(client):
    ProductFactory.create_batch(3)
    ProductFactory(name="Withdrawn", is_active=False)
    body = client.get(LIST_URL, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert "Withdrawn" not in [r["name"] for r in body["results"]]


def test_list_row_carries_tiers_availability_and_rating(client, baclofen):
    row = client.get(LIST_URL).json()["results"][0]
    assert row["ndc"] == "00832102400"
    assert row["ndc_display"] == "00832-1024-00"
    assert row["price_tiers"] == [
        {"min_quantity": 1, "max_quantity": 29, "unit_price": "2.48"},
        {"min_quantity": 30, "max_quantity": 89, "unit_price": "2.31"},
        {"min_quantity": 90, "max_quantity": None, "unit_price": "0.17"},
    ]
    assert row["availability"] == {"quantity_available": 1000, "in_stock": True}
    assert row["rating"] == {"average": None, "count": 0}


def test_search_matches_name_ingredient_and_ndc_in_any_form(client, baclofen):
    other_drug = DrugFactory(name="Tizanidine", slug="tizanidine", active_ingredient="tizanidine hydrochloride")
    ProductFactory(drug=other_drug, name="Zanaflex 4 mg tablet", ndc="51655008952")
    assert names(client.get(LIST_URL, {"search": "10 mg"})) == ["baclofen 10 mg tablet"]
    assert names(client.get(LIST_URL, {"search": "HYDROCHLORIDE"})) == ["Zanaflex 4 mg tablet"]
    assert names(client.get(LIST_URL, {"search": "00832102400"})) == ["baclofen 10 mg tablet"]
    assert names(client.get(LIST_URL, {"search": "00832-1024-00"})) == ["baclofen 10 mg tablet"]
    assert names(client.get(LIST_URL, {"search": "51655-089-52"})) == ["Zanaflex 4 mg tablet"]  # 5-3-2 form
    assert names(client.get(LIST_URL, {"search": "nothing like it"})) == []


def test_filters_by_route_dosage_form_and_prescription(client, baclofen):
    ProductFactory(name="Intrathecal kit", route="intrathecal", dosage_form="injection", selling_unit="ampule")
    ProductFactory(name="Otc tablet", rx_required=False)
    assert names(client.get(LIST_URL, {"route": "intrathecal"})) == ["Intrathecal kit"]
    assert names(client.get(LIST_URL, {"dosage_form": "injection"})) == ["Intrathecal kit"]
    assert names(client.get(LIST_URL, {"rx_required": "false"})) == ["Otc tablet"]
    assert names(client.get(LIST_URL, {"rx_required": "0"})) == ["Otc tablet"]
    assert len(names(client.get(LIST_URL, {"rx_required": "true"}))) == 2


def test_in_stock_counts_unexpired_lots_less_active_reservations(client):
    stocked = ProductFactory(name="A stocked", stock=5)
    expired = ProductFactory(name="B expired")
    StockLotFactory(product=expired, quantity=9, expiry_date=timezone.localdate() - timedelta(days=1))
    held = ProductFactory(name="C all held", stock=2)
    StockReservation.objects.create(
        product=held, reference="order:1", quantity=2, expires_at=timezone.now() + timedelta(minutes=10)
    )
    ProductFactory(name="D never stocked")
    assert names(client.get(LIST_URL, {"in_stock": "true"})) == [stocked.name]
    assert names(client.get(LIST_URL, {"in_stock": "false"})) == ["B expired", "C all held", "D never stocked"]
    rows = {r["name"]: r["availability"] for r in client.get(LIST_URL).json()["results"]}
    assert rows["C all held"] == {"quantity_available": 0, "in_stock": False}


def test_a_reservation_outlasting_its_lot_shows_zero_available_never_negative(client):
    product = ProductFactory(name="Held then expired", ndc="00832102401", tiers=[(1, "1.00")])
    lot = StockLotFactory(product=product, quantity=4)
    StockReservation.objects.create(
        product=product, reference="order:1", quantity=4, expires_at=timezone.now() + timedelta(minutes=10)
    )
    StockLot.objects.filter(pk=lot.pk).update(expiry_date=timezone.localdate() - timedelta(days=1))
    assert stock_available(product_ids=[product.pk]) == {product.pk: 0}
    row = client.get(LIST_URL).json()["results"][0]
    assert row["availability"] == {"quantity_available": 0, "in_stock": False}
    quote = client.get(f"{detail_url(product.ndc)}quote/", {"quantity": 1}).json()
    assert quote["quantity_available"] == 0 and quote["available"] is False


def test_ordering_by_price_uses_the_single_unit_tier_and_puts_unpriced_last(client):
    ProductFactory(name="Mid", tiers=[(1, "2.00"), (10, "0.01")])
    ProductFactory(name="Cheap", tiers=[(1, "1.00")])
    ProductFactory(name="Dear", tiers=[(1, "9.00")])
    ProductFactory(name="Unpriced", tiers=[])
    assert names(client.get(LIST_URL, {"ordering": "price"})) == ["Cheap", "Mid", "Dear", "Unpriced"]
    assert names(client.get(LIST_URL, {"ordering": "-price"})) == ["Dear", "Mid", "Cheap", "Unpriced"]


def test_ordering_by_rating_uses_approved_reviews_and_puts_unrated_last(client):
    good, poor, unrated = ProductFactory(name="Good"), ProductFactory(name="Poor"), ProductFactory(name="Unrated")
    approve(
        ReviewFactory(product=good, rating=5),
        ReviewFactory(product=good, rating=4),
        ReviewFactory(product=poor, rating=2),
    )
    ReviewFactory(product=unrated, rating=5)  # pending: does not count
    assert names(client.get(LIST_URL, {"ordering": "-rating"})) == ["Good", "Poor", "Unrated"]
    assert names(client.get(LIST_URL, {"ordering": "rating"})) == ["Poor", "Good", "Unrated"]
    rating = {r["name"]: r["rating"] for r in client.get(LIST_URL).json()["results"]}
    assert rating["Good"] == {"average": "4.5", "count": 2}


def test_ordering_by_name_both_ways_and_ties_keep_a_stable_order(client):
    for name in ["b", "a", "c"]:
        ProductFactory(name=name, tiers=[(1, "1.00")])
    assert names(client.get(LIST_URL, {"ordering": "name"})) == ["a", "b", "c"]
    assert names(client.get(LIST_URL, {"ordering": "-name"})) == ["c", "b", "a"]
    # Equal prices: name decides, so pages never overlap.
    assert names(client.get(LIST_URL, {"ordering": "price"})) == ["a", "b", "c"]
    page1 = names(client.get(LIST_URL, {"ordering": "price", "page_size": 2}))
    page2 = names(client.get(LIST_URL, {"ordering": "price", "page_size": 2, "page": 2}))
    assert page1 + page2 == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "stock"}, "ordering"),
        ({"ordering": "price;drop table"}, "ordering"),
        ({"route": "nasal"}, "route"),
        ({"dosage_form": "x" * 5000}, "dosage_form"),
        ({"search": "bad\x00byte"}, "search"),
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "1" * 40}, "page"),
    ],
)
def test_bad_list_parameters_get_a_400_naming_the_parameter(client, params, field):
    ProductFactory()
    response = client.get(LIST_URL, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"].startswith(f"{field}:")


@pytest.mark.parametrize("ordering", ["stock", "-stock", "name,bogus", "price;drop table"])
def test_unknown_ordering_is_a_400_naming_ordering_and_listing_the_allowed_values(client, ordering):
    ProductFactory()
    response = client.get(LIST_URL, {"ordering": ordering})
    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]
    assert response.json()["detail"].startswith("ordering:")
    for value in ("name", "-name", "price", "-price", "rating", "-rating"):
        assert value in response.json()["detail"]


def test_garbage_that_cannot_be_misread_is_ignored_not_an_error(client):
    ProductFactory()
    assert (
        client.get(
            LIST_URL, {"in_stock": "maybe", "rx_required": "🙂", "unknown": "1", "page_size": "lots"}
        ).status_code
        == 200
    )
    assert client.get(LIST_URL, {"page_size": "100000"}).json()["count"] == 1


def test_page_past_the_end_is_404(client):
    ProductFactory()
    assert client.get(LIST_URL, {"page": "99"}).status_code == 404


# --- detail ----------------------------------------------------------------------------------


def test_detail_has_every_field_of_the_product_page(client, baclofen):
    MonographSection.objects.create(
        drug=baclofen.drug, product=baclofen, kind="uses", title="Uses", body="Spasticity.", position=1
    )
    MonographSection.objects.create(
        drug=baclofen.drug, kind="overview", title="Overview", body="For every baclofen product.", position=0
    )
    response = client.get(detail_url("00832102400"))
    assert response.status_code == 200
    body = response.json()
    assert body["ndc"] == "00832102400"
    assert body["ndc_display"] == "00832-1024-00"
    assert body["name"] == "baclofen 10 mg tablet"
    assert body["slug"] == "baclofen-10-mg-tablet"
    assert body["manufacturer"] == "UPSHER SMITH LA"
    assert body["is_generic"] is True and body["brand_name"] == ""
    assert body["strength"] == "10.000" and body["strength_unit"] == "mg"
    assert (body["dosage_form"], body["route"], body["selling_unit"], body["pack_size"]) == (
        "tablet",
        "oral",
        "tablet",
        1,
    )
    assert body["rx_required"] is True
    assert body["price_tiers"][0] == {"min_quantity": 1, "max_quantity": 29, "unit_price": "2.48"}
    assert body["availability"] == {"quantity_available": 1000, "in_stock": True}
    assert body["rating"] == {"average": None, "count": 0}
    facts = body["drug_facts"]
    assert facts["drug_class"] == "Skeletal muscle relaxant"
    assert facts["pharmacologic_class"] == "GABA-B agonist"
    assert facts["pregnancy_category"] == "C"
    assert facts["fda_approved"] == "1977-11-01"
    assert facts["dea_schedule"] == ""
    assert facts["black_box_warning"] == ""  # the warning is for the intrathecal route only
    assert facts["route_limits"] == {
        "route": "oral",
        "dose_unit": "mg",
        "max_daily_dose": "80.000",
        "min_daily_dose": None,
        "min_age_years": 12,
    }
    assert body["monograph"] == [
        {"kind": "overview", "title": "Overview", "body": "For every baclofen product."},
        {"kind": "uses", "title": "Uses", "body": "Spasticity."},
    ]


def test_detail_shows_the_black_box_warning_of_the_products_route(client, baclofen):
    ProductFactory(
        drug=baclofen.drug,
        name="baclofen 40 mg/20 mL",
        ndc="70121153401",
        route="intrathecal",
        dosage_form="injection",
        selling_unit="ampule",
    )
    facts = client.get(detail_url("70121153401")).json()["drug_facts"]
    assert facts["black_box_warning"].startswith("Abrupt discontinuation")
    assert facts["route_limits"]["dose_unit"] == "mcg"


def test_detail_without_route_limits_says_null(client):
    ProductFactory(ndc="00000000011")
    assert client.get(detail_url("00000000011")).json()["drug_facts"]["route_limits"] is None


@pytest.mark.parametrize("form", ["00832102400", "00832-1024-00", "0832-1024-00"])
def test_detail_accepts_the_ndc_in_any_accepted_form(client, baclofen, form):
    response = client.get(detail_url(form))
    assert response.status_code == 200
    assert response.json()["ndc"] == "00832102400"


def test_detail_accepts_5_3_2_and_5_4_1_forms(client):
    ProductFactory(ndc="51655008952")
    ProductFactory(ndc="58118139703")
    assert client.get(detail_url("51655-089-52")).json()["ndc"] == "51655008952"
    assert client.get(detail_url("58118-1397-3")).json()["ndc"] == "58118139703"


@pytest.mark.parametrize("bad", ["0083210240", "12345", "abc", "00832-10240-0", "٠٠٨٣٢١٠٢٤٠٠", "1" * 500])
def test_malformed_ndc_is_a_400_naming_ndc(client, bad):
    response = client.get(detail_url(bad))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"].startswith("ndc:")
    assert "ndc" in response.json()["errors"]


def test_unknown_or_inactive_ndc_is_404(client):
    ProductFactory(ndc="00000000022", is_active=False)
    assert client.get(detail_url("99999-9999-99")).status_code == 404
    assert client.get(detail_url("00000000022")).status_code == 404
    assert client.get(detail_url("99999-9999-99")).json()["code"] == "not_found"


# --- quote -----------------------------------------------------------------------------------


def quote(client, ndc, **params):
    return client.get(f"/api/v1/products/{ndc}/quote/", params)


@pytest.mark.parametrize(
    ("quantity", "unit_price", "total"),
    [(1, "2.48", "2.48"), (29, "2.48", "71.92"), (30, "2.31", "69.30"), (90, "0.17", "15.30")],
)
def test_quote_prices_the_quantity_at_its_tier(client, baclofen, quantity, unit_price, total):
    response = quote(client, "00832-1024-00", quantity=quantity)
    assert response.status_code == 200
    assert response.json() == {
        "ndc": "00832102400",
        "quantity": quantity,
        "unit_price": unit_price,
        "total": total,
        "available": True,
        "quantity_available": 1000,
    }


def test_quote_says_unavailable_beyond_stock_but_still_prices(client, baclofen):
    body = quote(client, "00832102400", quantity=1001).json()
    assert body["available"] is False
    assert body["quantity_available"] == 1000
    assert body["total"] == "170.17"


def test_quote_of_the_largest_allowed_quantity_is_exact(client, baclofen):
    body = quote(client, "00832102400", quantity=2_147_483_647).json()
    assert body["total"] == "365072219.99"
    assert body["available"] is False


@pytest.mark.parametrize("value", [None, "", "0", "-3", "1.5", "abc", "2147483648", "9" * 2000, "1e3"])
def test_quote_needs_a_positive_whole_quantity(client, baclofen, value):
    params = {} if value is None else {"quantity": value}
    response = quote(client, "00832102400", **params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("quantity:")


def test_quote_of_a_product_without_price_tiers_is_a_409(client):
    ProductFactory(ndc="00000000033", tiers=[])
    response = quote(client, "00000000033", quantity=1)
    assert response.status_code == 409
    assert response.json()["code"] == "no_price_tiers"


def test_quote_of_a_schedule_with_a_gap_at_one_is_a_409_not_a_500(client):
    ProductFactory(ndc="00000000044", tiers=[(10, "1.00")])
    assert quote(client, "00000000044", quantity=20).json()["code"] == "no_price_tiers"


def test_quote_checks_the_ndc_first(client):
    assert quote(client, "junk", quantity=1).status_code == 400
    assert quote(client, "00000-0000-01", quantity=1).status_code == 404


# --- reviews ---------------------------------------------------------------------------------


def reviews_url(ndc="00832102400"):
    return f"/api/v1/products/{ndc}/reviews/"


def test_reviews_list_shows_only_approved_reviews_newest_first_paginated(client, baclofen):
    old = ReviewFactory(product=baclofen, title="Old", user=UserFactory(username="olga"))
    new = ReviewFactory(product=baclofen, title="New")
    ReviewFactory(product=baclofen, title="Pending")
    ReviewFactory(product=baclofen, title="Rejected", status=Review.Status.REJECTED)
    approve(old, new)
    body = client.get(reviews_url()).json()
    assert body["count"] == 2
    assert [r["title"] for r in body["results"]] == ["New", "Old"]
    assert body["results"][1]["author"] == "olga"
    assert body["results"][1]["rating"] == 4
    assert "email" not in str(body)


@pytest.mark.parametrize("ordering", ["rating", "-created_at", "bogus"])
def test_reviews_list_has_no_ordering_parameter_so_ordering_is_ignored(client, baclofen, ordering):
    # Only the products list can be ordered; the reviews are always newest first.
    old = ReviewFactory(product=baclofen, title="Old", rating=5)
    new = ReviewFactory(product=baclofen, title="New", rating=1)
    approve(old, new)
    response = client.get(reviews_url(), {"ordering": ordering})
    assert response.status_code == 200
    assert [r["title"] for r in response.json()["results"]] == ["New", "Old"]


def test_signed_in_customer_writes_a_pending_review(client, baclofen):
    user = UserFactory()
    client.force_authenticate(user)
    response = client.post(
        reviews_url("00832-1024-00"), {"rating": 5, "title": " Great ", "body": "Helps."}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["moderation_status"] == "pending"
    review = Review.objects.get()
    assert (review.user, review.product, review.rating, review.title) == (user, baclofen, 5, "Great")
    # Pending reviews are not listed and do not count in the rating.
    assert client.get(reviews_url()).json()["count"] == 0
    baclofen.refresh_from_db()
    assert baclofen.rating_count == 0


@pytest.mark.parametrize("rating", [0, 6, -1, "five", 4.5, None])
def test_review_rating_out_of_range_is_a_400_naming_rating_and_saves_nothing(client, baclofen, rating):
    client.force_authenticate(UserFactory())
    response = client.post(reviews_url(), {"rating": rating, "title": "t", "body": "b"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("rating:")
    assert not Review.objects.exists()


def test_review_needs_title_and_body(client, baclofen):
    client.force_authenticate(UserFactory())
    response = client.post(reviews_url(), {"rating": 3}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title", "body"}
    assert not Review.objects.exists()


def test_second_review_by_the_same_customer_is_a_409_and_keeps_the_first(client, baclofen):
    user = UserFactory()
    client.force_authenticate(user)
    assert client.post(reviews_url(), {"rating": 5, "title": "One", "body": "b"}, format="json").status_code == 201
    response = client.post(reviews_url(), {"rating": 1, "title": "Two", "body": "b"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_review"
    assert list(Review.objects.values_list("title", flat=True)) == ["One"]


def test_anonymous_cannot_write_a_review(client, baclofen):
    response = client.post(reviews_url(), {"rating": 5, "title": "t", "body": "b"}, format="json")
    assert response.status_code in (401, 403)
    assert not Review.objects.exists()


def test_reviews_of_unknown_or_malformed_ndc(client):
    assert client.get(reviews_url("00000-0000-99")).status_code == 404
    assert client.get(reviews_url("nope")).status_code == 400


# --- receiving lots (staff) ------------------------------------------------------------------


def lots_url(ndc="00832102400"):
    return f"/api/v1/products/{ndc}/lots/"


def lot_payload(**overrides):
    expiry = (timezone.localdate() + timedelta(days=400)).isoformat()
    return {"lot_number": "B2401", "expiry_date": expiry, "quantity": 500, **overrides}


RECEIVING = ("change_product", "add_stocklot")  # what the admin's "Receive a lot" asks


def stock_clerk(permissions=RECEIVING):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="catalog", codename__in=permissions))
    return user


@pytest.fixture
def staff_client(client):
    client.force_authenticate(stock_clerk())
    return client


def test_staff_receives_a_lot_and_availability_rises(staff_client, baclofen):
    response = staff_client.post(lots_url("00832-1024-00"), lot_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["ndc"], body["lot_number"], body["quantity_received"], body["quantity_on_hand"]) == (
        "00832102400",
        "B2401",
        500,
        500,
    )
    assert StockLot.objects.filter(product=baclofen, lot_number="B2401").exists()
    assert staff_client.get(detail_url("00832102400")).json()["availability"]["quantity_available"] == 1500


def test_staff_may_receive_stock_for_an_inactive_product(staff_client):
    ProductFactory(ndc="00000000055", is_active=False)
    assert staff_client.post(lots_url("00000000055"), lot_payload(), format="json").status_code == 201


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_only_staff_may_receive_lots(client, baclofen, who):
    if who == "customer":
        client.force_authenticate(UserFactory())
    response = client.post(lots_url(), lot_payload(), format="json")
    assert response.status_code in (401, 403)
    assert not StockLot.objects.filter(lot_number="B2401").exists()


@pytest.mark.parametrize("permissions", [(), ("change_product",), ("add_stocklot",)])
def test_staff_without_both_receiving_permissions_get_a_403(client, baclofen, permissions):
    client.force_authenticate(stock_clerk(permissions))
    response = client.post(lots_url(), lot_payload(), format="json")
    assert response.status_code == 403
    assert not StockLot.objects.filter(lot_number="B2401").exists()


def test_a_superuser_may_receive_lots(client, baclofen):
    client.force_authenticate(UserFactory(is_staff=True, is_superuser=True))
    assert client.post(lots_url(), lot_payload(), format="json").status_code == 201


def test_a_lot_up_to_the_cap_is_received_and_one_unit_more_is_a_400(staff_client, baclofen, settings):
    cap = settings.CATALOG_LOT_MAX_QUANTITY
    assert cap == 100_000
    assert staff_client.post(lots_url(), lot_payload(quantity=cap), format="json").status_code == 201
    response = staff_client.post(lots_url(), lot_payload(lot_number="B2402", quantity=cap + 1), format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["quantity"] == [f"A lot holds at most {cap} units."]
    assert not StockLot.objects.filter(lot_number="B2402").exists()


def test_an_expired_lot_is_refused_with_a_400(staff_client, baclofen):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = staff_client.post(lots_url(), lot_payload(expiry_date=yesterday), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_stock_operation"
    assert not StockLot.objects.filter(lot_number="B2401").exists()


def test_a_lot_number_received_twice_is_a_409(staff_client, baclofen):
    assert staff_client.post(lots_url(), lot_payload(), format="json").status_code == 201
    response = staff_client.post(lots_url(), lot_payload(quantity=1), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_lot"
    assert StockLot.objects.get(lot_number="B2401").quantity_received == 500


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": 2**31}, "quantity"),
        ({"quantity": 100_001}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"expiry_date": "2030-02-30"}, "expiry_date"),
        ({"expiry_date": "soon"}, "expiry_date"),
        ({"lot_number": ""}, "lot_number"),
        ({"lot_number": "L" * 51}, "lot_number"),
    ],
)
def test_bad_lot_input_is_a_400_naming_the_field(staff_client, baclofen, overrides, field):
    before = StockLot.objects.count()
    response = staff_client.post(lots_url(), lot_payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert StockLot.objects.count() == before


def test_lots_of_unknown_or_malformed_ndc(staff_client):
    assert staff_client.post(lots_url("00000-0000-99"), lot_payload(), format="json").status_code == 404
    assert staff_client.post(lots_url("0000000099"), lot_payload(), format="json").status_code == 400


def test_url_names_reverse_to_the_documented_paths():
    assert reverse("catalog-api:product-list") == "/api/v1/products/"
    assert reverse("catalog-api:product-detail", kwargs={"ndc": "00832102400"}) == "/api/v1/products/00832102400/"
    assert reverse("catalog-api:product-quote", kwargs={"ndc": "x"}) == "/api/v1/products/x/quote/"
    assert reverse("catalog-api:product-reviews", kwargs={"ndc": "x"}) == "/api/v1/products/x/reviews/"
    assert reverse("catalog-api:product-lots", kwargs={"ndc": "x"}) == "/api/v1/products/x/lots/"
