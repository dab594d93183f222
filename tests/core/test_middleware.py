"""core.middleware.RequestInputGuardMiddleware: a NUL character in the path, the query string, a form
field is a 400 naming the field, before any view (PostgreSQL text cannot hold it)."""

import pytest

from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path, field",
    [("/?q=baclofen%00", "q"), ("/api/v1/products/?search=a%00b", "search"), ("/api/v1/orders/AB%00CD/", "path")],
)
def test_a_nul_in_the_path_or_query_is_a_400_naming_it(client, path, field):
    response = client.get(path)

    assert response.status_code == 400
    assert field in response.content.decode()


def test_under_the_api_the_refusal_has_the_api_error_shape(client):
    response = client.get("/api/v1/products/?search=a%00b")

    assert response.json() == {
        "code": "invalid",
        "detail": "search: NUL characters (\\x00) are not allowed.",
        "errors": {"search": ["NUL characters (\\x00) are not allowed."]},
    }


def test_a_nul_in_a_form_field_is_a_400_naming_it(client):
    client.force_login(UserFactory())

    response = client.post("/accounts/register/", {"username": "amy\x00", "password1": "x"})

    assert response.status_code == 400
    assert "username: NUL characters" in response.content.decode()
