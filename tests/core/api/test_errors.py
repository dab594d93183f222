"""The API's error answers (core/api/errors.py): a path no view matches under /api/ is a JSON 404
(the storefront keeps its HTML page), and a request Django refuses (too many fields) is a JSON 400."""

import pytest

from shop.models import CartLine
from tests.core.api_helpers import api, post_raw
from tests.core.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/pumps/abc/",
        "/api/v1/patients/1.5/",
        "/api/v1/cart/items/abc/",
        "/api/v1/clinics/x/pumps/",
        "/api/v1/kit-alerts/-1/resolve/",
        "/api/v1/nothing/",
    ],
)
def test_an_api_path_no_view_matches_is_a_json_404(path):
    response = api(UserFactory()).patch(path, {"quantity": 2}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert "ids in a path are whole numbers" in response.json()["detail"]


@pytest.mark.django_db
def test_a_storefront_path_no_view_matches_is_still_the_html_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_too_many_form_fields_is_a_json_400_naming_the_limit_and_adds_nothing_to_the_cart(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"field{i}=1" for i in range(20))
    response = post_raw(
        api(UserFactory()), "/api/v1/cart/items/", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "bad_request"
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["detail"]
    assert not CartLine.objects.exists()
