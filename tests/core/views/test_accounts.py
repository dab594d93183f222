"""Account pages: registration with Django's password validators, login and logout."""

import pytest
from django.contrib.auth import get_user_model

from tests.core.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def register(client, **overrides):
    data = {
        "username": "maria",
        "email": "maria@example.com",
        "password1": "Spasm-free-2026!",
        "password2": "Spasm-free-2026!",
        **overrides,
    }
    return client.post("/accounts/register/", data)


def test_registration_creates_the_account_and_signs_in(client):
    assert client.get("/accounts/register/").status_code == 200
    response = register(client)
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get()
    assert (user.username, user.email) == ("maria", "maria@example.com")
    assert user.check_password("Spasm-free-2026!")
    assert "Signed in as <strong>maria</strong>" in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "This password is too common."),
        ("12345678901", "This password is entirely numeric."),
        ("Ab1!", "This password is too short."),
        ("maria@example", "The password is too similar to the email address."),
    ],
)
def test_registration_rejects_weak_passwords_and_saves_nothing(client, password, message):
    response = register(client, password1=password, password2=password)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not User.objects.exists()


def test_registration_rejects_duplicate_usernames_in_any_case(client):
    UserFactory(username="Maria")
    response = register(client)
    assert response.status_code == 400
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_registration_rejects_mismatched_passwords_and_missing_email(client):
    response = register(client, password2="Something-else-2026!", email="")
    page = response.content.decode()
    assert response.status_code == 400
    assert "fields didn" in page and "This field is required." in page
    assert not User.objects.exists()


def test_login_and_logout(client):
    UserFactory(username="maria")
    response = client.post("/accounts/login/", {"username": "maria", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    response = client.post(
        "/accounts/login/", {"username": "maria", "password": DEFAULT_PASSWORD, "next": "/products/x/"}
    )
    assert response.status_code == 302 and response["Location"] == "/products/x/"
    assert client.session.get("_auth_user_id")
    assert client.get("/accounts/logout/").status_code == 405  # logout is POST only
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert not client.session.get("_auth_user_id")


def test_login_refuses_an_offsite_next(client):
    UserFactory(username="maria")
    response = client.post(
        "/accounts/login/", {"username": "maria", "password": DEFAULT_PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_registration_refuses_an_email_address_already_registered_in_any_case(client):
    UserFactory(username="someone", email="maria@example.com")
    response = register(client, email="Maria@EXAMPLE.com")
    assert response.status_code == 400
    assert "An account with that e-mail address already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_registration_refuses_a_username_mixing_scripts(client):
    response = register(client, username="\u0440\u0430ypal")  # Cyrillic р, а, then Latin
    assert response.status_code == 400
    assert "letters from one script" in response.content.decode()
    assert not User.objects.exists()


def test_registration_saves_the_nfkc_form_of_the_username(client):
    assert register(client, username="\uff4d\uff41\uff52\uff49\uff41").status_code == 302  # fullwidth
    assert User.objects.get().username == "maria"
