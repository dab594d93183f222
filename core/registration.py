"""What a new account's username and e-mail address must be, for the page and the API alike.

``registration_validate`` is the one check both the registration form (core.views.accounts) and
the API serializer (core.api.auth) call:

- the username is NFKC-normalised (``AbstractBaseUser.normalize_username``, what Django saves)
  before it is compared, so a fullwidth ``ｍａｒｉａ`` is ``maria``;
- it is unique ignoring case ("Alice" and "alice" would be two accounts nobody can tell apart);
- its letters come from one script: ``раypal`` (Cyrillic р and а, then Latin) looks like
  ``paypal`` and is refused. Chinese, Japanese and Korean writing mix Han, kana and Hangul, so
  those count as one script; digits and ``.@+-_`` belong to none;
- one account per e-mail address, ignoring case.

A script is read from the Unicode character name's first word (``CYRILLIC SMALL LETTER ER``),
which the standard library has; it is exact for the alphabets people write usernames in.
"""

import unicodedata

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError

DUPLICATE_USERNAME = "A user with that username already exists."
DUPLICATE_EMAIL = "An account with that e-mail address already exists."
MIXED_SCRIPTS = "Use letters from one script only (for example Latin or Cyrillic, not both)."
# Writing systems that are used together in one name.
_SCRIPT_FAMILIES = {
    "HIRAGANA": "CJK",
    "KATAKANA": "CJK",
    "KATAKANA-HIRAGANA": "CJK",
    "HANGUL": "CJK",
    "CJK": "CJK",
    "IDEOGRAPHIC": "CJK",
}
# Letters of no script of their own (the Hawaiian ʻokina is a MODIFIER LETTER).
_NO_SCRIPT = {"MODIFIER"}


def username_normalize(username: str) -> str:
    """The form Django saves: NFKC."""
    return str(AbstractBaseUser.normalize_username(username))


def username_scripts(username: str) -> set[str]:
    """The scripts of the letters in ``username`` (digits and punctuation have none)."""
    scripts: set[str] = set()
    for char in username:
        if not unicodedata.category(char).startswith("L"):
            continue
        first_word = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
        if first_word in _NO_SCRIPT:
            continue
        scripts.add(_SCRIPT_FAMILIES.get(first_word, first_word))
    return scripts


def registration_validate(*, username: str, email: str) -> str:
    """Return the normalised username, or raise ValidationError naming ``username`` and/or ``email``."""
    normalized = username_normalize(username)
    users = get_user_model().objects
    errors: dict[str, list[str]] = {}
    if len(username_scripts(normalized)) > 1:
        errors["username"] = [MIXED_SCRIPTS]
    elif normalized and users.filter(username__iexact=normalized).exists():
        errors["username"] = [DUPLICATE_USERNAME]
    if email and users.filter(email__iexact=email).exists():
        errors["email"] = [DUPLICATE_EMAIL]
    if errors:
        raise ValidationError(errors)
    return normalized
