"""The API's pagination (core/api/pagination.py): a malformed ``?page=`` is a 400 naming ``page`` on
every list; a well-formed page past the end stays a 404."""

import pytest

from tests.core.api_helpers import api
from tests.core.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/patients/", "/api/v1/prescriptions/", "/api/v1/clinics/"])
@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "99999999999999999999"])
def test_a_malformed_page_of_any_api_list_is_a_400_naming_page(path, page):
    response = api(UserFactory()).get(path, {"page": page})

    assert response.status_code == 400
    assert response.json()["errors"] == {"page": ["Must be a positive whole number."]}
    assert response.json()["detail"] == "page: Must be a positive whole number."


@pytest.mark.django_db
def test_a_well_formed_page_past_the_end_of_an_api_list_is_still_a_404():
    client = api(UserFactory())

    assert client.get("/api/v1/orders/", {"page": "1"}).status_code == 200
    assert client.get("/api/v1/orders/", {"page": "last"}).status_code == 200
    assert client.get("/api/v1/orders/", {"page": "2"}).status_code == 404
