"""Account API: register, obtain a token, use it; both endpoints are throttled."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.api.auth import AuthRateThrottle
from tests.catalog.factories import ProductFactory
from tests.core.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
GOOD = {"username": "maria", "email": "maria@example.com", "password": "Spastic-Quokka-1977"}


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """Throttle counts live in the cache: start every test with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return APIClient()


def test_register_creates_the_account_and_never_returns_the_password(client):
    response = client.post(REGISTER, GOOD, format="json")
    assert response.status_code == 201, response.content
    user = User.objects.get(username="maria")
    assert response.json() == {"id": user.pk, "username": "maria", "email": "maria@example.com"}
    assert GOOD["password"] not in response.content.decode()
    assert user.check_password(GOOD["password"])
    assert not user.is_staff


@pytest.mark.parametrize("username", ["maria", "MARIA"])
def test_duplicate_username_is_a_400_naming_username(client, username):
    UserFactory(username="maria")
    response = client.post(REGISTER, {**GOOD, "username": username}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "username: A user with that username already exists."
    assert User.objects.filter(username__iexact="maria").count() == 1


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "too short"),
        ("password123", "too common"),
        ("83920174650", "entirely numeric"),
        ("maria@example.com!", "too similar"),
    ],
)
def test_weak_password_is_a_400_that_says_why(client, password, reason):
    response = client.post(REGISTER, {**GOOD, "password": password}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("password:")
    assert any(reason in message for message in body["errors"]["password"])
    assert not User.objects.filter(username="maria").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**GOOD, "email": "not-an-email"}, "email"),
        ({"username": "maria", "password": GOOD["password"]}, "email"),
        ({**GOOD, "username": "has space"}, "username"),
        ({**GOOD, "username": ""}, "username"),
        ({"username": "maria", "email": "maria@example.com"}, "password"),
    ],
)
def test_invalid_registration_names_the_field_and_saves_nothing(client, payload, field):
    response = client.post(REGISTER, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not User.objects.exists()


def test_token_for_good_credentials_is_stable(client):
    user = UserFactory(username="maria")
    first = client.post(TOKEN, {"username": "maria", "password": DEFAULT_PASSWORD}, format="json")
    assert first.status_code == 200
    assert first.json() == {"token": Token.objects.get(user=user).key}
    again = client.post(TOKEN, {"username": "maria", "password": DEFAULT_PASSWORD}, format="json")
    assert again.json() == first.json()


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "maria", "password": "wrong"},
        {"username": "nobody", "password": DEFAULT_PASSWORD},
        {"username": "maria"},
        {},
    ],
)
def test_bad_credentials_are_a_400_and_issue_no_token(client, payload):
    UserFactory(username="maria")
    response = client.post(TOKEN, payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Token.objects.exists()


def test_inactive_user_gets_no_token(client):
    UserFactory(username="maria", is_active=False)
    assert client.post(TOKEN, {"username": "maria", "password": DEFAULT_PASSWORD}).status_code == 400


def test_registered_user_authenticates_with_the_token_on_an_authenticated_endpoint(client):
    product = ProductFactory()
    client.post(REGISTER, GOOD, format="json")
    token = client.post(TOKEN, {"username": "maria", "password": GOOD["password"]}, format="json").json()["token"]
    review = {"rating": 5, "title": "Good", "body": "Works."}
    url = f"/api/v1/products/{product.ndc}/reviews/"
    assert client.post(url, review, format="json").status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post(url, review, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["author"] == "maria"
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.post(url, review, format="json").status_code in (401, 403)


@pytest.mark.parametrize("url", [REGISTER, TOKEN])
def test_auth_endpoints_are_throttled(client, monkeypatch, url):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/minute"})
    statuses = [client.post(url, {"username": "x"}, format="json").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert client.post(url, {"username": "x"}, format="json").json()["code"] == "throttled"


def test_a_signed_in_browser_needs_no_csrf_token_to_call_them():
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="maria"))
    response = client.post(TOKEN, {"username": "maria", "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200


def test_token_sign_ins_count_towards_the_lockout_and_a_locked_user_gets_a_429(client, settings):
    settings.AXES_ENABLED = True
    UserFactory(username="maria")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(TOKEN, {"username": "maria", "password": "wrong"}, format="json")
    response = client.post(TOKEN, {"username": "maria", "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed sign-in attempts; try again in")
    assert not Token.objects.exists()


@pytest.mark.parametrize("email", ["maria@example.com", "MARIA@Example.COM"])
def test_one_account_per_email_address_in_any_case(client, email):
    UserFactory(username="someone", email="maria@example.com")
    response = client.post(REGISTER, {**GOOD, "email": email}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert not User.objects.filter(username="maria").exists()


def test_username_is_saved_nfkc_normalised_and_compared_so(client):
    response = client.post(REGISTER, {**GOOD, "username": "\uff4d\uff41\uff52\uff49\uff41"}, format="json")  # fullwidth
    assert response.status_code == 201, response.content
    assert User.objects.get().username == "maria"
    UserFactory(username="Other")
    fullwidth_other = "\uff4f\uff54\uff48\uff45\uff52"  # NFKC: "other", which differs from "Other" in case only
    response = client.post(REGISTER, {**GOOD, "username": fullwidth_other, "email": "o@example.com"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "username: A user with that username already exists."


@pytest.mark.parametrize("username", ["\u0440\u0430ypal", "p\u0430ypal", "adm\u0456n"])  # Cyrillic р/а/і in Latin
def test_a_username_mixing_scripts_is_a_400_naming_username(client, username):
    response = client.post(REGISTER, {**GOOD, "username": username}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("username:")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "username", ["\u0438\u0432\u0430\u043d_77", "\u03b1\u03bb\u03ad\u03be\u03b7\u03c2", "jos\u00e9.garc\u00eda"]
)
def test_a_username_in_one_script_is_accepted(client, username):
    response = client.post(REGISTER, {**GOOD, "username": username}, format="json")
    assert response.status_code == 201, response.content
