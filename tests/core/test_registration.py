"""core.registration: the username and e-mail rules the registration page and API share."""

import pytest
from django.core.exceptions import ValidationError

from core.registration import registration_validate, username_normalize, username_scripts
from tests.core.factories import UserFactory


@pytest.mark.parametrize(
    ("username", "scripts"),
    [
        ("maria_77", {"LATIN"}),
        ("jos\u00e9.garc\u00eda", {"LATIN"}),
        ("\u0438\u0432\u0430\u043d", {"CYRILLIC"}),
        ("\u0440\u0430ypal", {"CYRILLIC", "LATIN"}),
        ("\u5c71\u7530\u305f\u308d\u3046\u30fc", {"CJK"}),  # Han, hiragana and the prolonged sound mark
        ("\u02bbaukai", {"LATIN"}),  # the Hawaiian okina is a modifier letter, of no script
        ("12345", set()),
    ],
)
def test_username_scripts(username, scripts):
    assert username_scripts(username) == scripts


def test_username_normalize_is_nfkc():
    assert username_normalize("\uff4d\uff41\uff52\uff49\uff41") == "maria"
    assert username_normalize("\ufb01sh") == "fish"  # the fi ligature


@pytest.mark.django_db
def test_registration_validate_names_each_failing_field():
    UserFactory(username="Maria", email="maria@example.com")
    with pytest.raises(ValidationError) as caught:
        registration_validate(username="\uff4d\uff41\uff52\uff49\uff41", email="MARIA@example.com")
    assert set(caught.value.message_dict) == {"username", "email"}
    with pytest.raises(ValidationError) as caught:
        registration_validate(username="p\u0430ypal", email="new@example.com")
    assert list(caught.value.message_dict) == ["username"]
    assert registration_validate(username="\uff4a\uff4f", email="jo@example.com") == "jo"
