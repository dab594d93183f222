"""Brute-force lockout of the sign-in page and the admin sign-in (django-axes).

The test settings switch axes off (AXES_ENABLED) so that the rest of the suite can sign in as it
likes; these tests switch it on with real requests through the test client. The cool-off is
passed by moving the recorded attempts back in time (the same rows axes counts), not by sleeping.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings

from tests.core.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LOCKED = "Too many failed sign-in attempts; try again in"


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True


def sign_in(client, url, username, password, address="10.0.0.1"):
    data = {"username": username, "password": password}
    if url == ADMIN_LOGIN:
        data["next"] = "/admin/"
    return client.post(url, data, REMOTE_ADDR=address)


def fail(client, url, username, times, address="10.0.0.1"):
    for _ in range(times):
        response = sign_in(client, url, username, "wrong-password", address)
    return response


def pass_the_cool_off():
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(days=1))


def signed_in(client):
    return bool(client.session.get("_auth_user_id"))


def test_the_message_names_the_minutes():
    minutes = django_settings.AXES_COOLOFF_MINUTES
    assert django_settings.AXES_COOLOFF_MESSAGE == f"{LOCKED} {minutes} minutes."


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_the_right_password_is_refused_while_locked_and_works_after_the_cool_off(client, url):
    UserFactory(username="maria", is_staff=True)
    limit = django_settings.AXES_FAILURE_LIMIT
    assert fail(client, url, "maria", limit - 1).status_code == 200  # the form again, not yet locked
    response = fail(client, url, "maria", 1)
    assert response.status_code == 429 and LOCKED in response.content.decode()

    response = sign_in(client, url, "maria", DEFAULT_PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not signed_in(client)

    pass_the_cool_off()
    response = sign_in(client, url, "maria", DEFAULT_PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_a_user_is_locked_from_every_address(client):
    UserFactory(username="maria")
    for n in range(django_settings.AXES_FAILURE_LIMIT):
        sign_in(client, LOGIN, "maria", "wrong-password", address=f"10.0.1.{n}")
    response = sign_in(client, LOGIN, "maria", DEFAULT_PASSWORD, address="10.0.2.1")
    assert response.status_code == 429 and not signed_in(client)


def test_an_address_is_locked_for_every_user(client):
    UserFactory(username="maria")
    for n in range(django_settings.AXES_FAILURE_LIMIT):
        sign_in(client, LOGIN, f"guess{n}", "wrong-password")
    response = sign_in(client, LOGIN, "maria", DEFAULT_PASSWORD)
    assert response.status_code == 429 and not signed_in(client)
    response = sign_in(client, LOGIN, "maria", DEFAULT_PASSWORD, address="10.0.9.9")
    assert response.status_code == 302 and signed_in(client)


def test_a_success_resets_the_count(client):
    UserFactory(username="maria")
    limit = django_settings.AXES_FAILURE_LIMIT
    fail(client, LOGIN, "maria", limit - 1)
    assert sign_in(client, LOGIN, "maria", DEFAULT_PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    assert fail(client, LOGIN, "maria", limit - 1).status_code == 200
    assert sign_in(client, LOGIN, "maria", DEFAULT_PASSWORD).status_code == 302


def test_the_lockout_is_a_page_of_the_site_with_a_way_on(client):
    UserFactory(username="maria")
    response = fail(client, LOGIN, "maria", django_settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert django_settings.AXES_COOLOFF_MESSAGE in page and 'href="/"' in page  # the message, and the catalogue
