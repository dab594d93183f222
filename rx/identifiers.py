"""Prescriber identifiers: NPI and DEA registration number. Pure functions, no ORM, no Django.

NPI (CMS rule): 10 digits starting with 1 or 2; the last digit is a Luhn check digit computed as
if the card-issuer prefix ``80840`` stood in front. ``1234567893`` is valid, ``1234567890`` not.

DEA: two letters and seven digits. Check digit = last digit of
(d1 + d3 + d5) + 2 x (d2 + d4 + d6). ``AB1234563`` is valid: 9 + 2 x 12 = 33.
"""

import re

NPI_PREFIX = "80840"
_NPI = re.compile(r"^[12][0-9]{9}$")
_DEA = re.compile(r"^[A-Z][A-Z9][0-9]{7}$")


def luhn_is_valid(digits: str) -> bool:
    """Return True when the digit string passes the Luhn (mod 10) check."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def npi_is_valid(value: str | None) -> bool:
    """Return True for a 10-digit NPI whose check digit is right (Luhn with the 80840 prefix)."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text.isascii() or not _NPI.match(text):
        return False
    return luhn_is_valid(NPI_PREFIX + text)


def dea_check_digit(digits6: str) -> int:
    """Return the DEA check digit for the first six digits."""
    d = [int(c) for c in digits6]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def dea_is_valid(value: str | None) -> bool:
    """Return True for two letters (the second may be 9 for some registrants) and seven digits
    whose last digit is the DEA check digit."""
    if not isinstance(value, str):
        return False
    text = value.strip().upper()
    if not text.isascii() or not _DEA.match(text):
        return False
    digits = text[2:]
    return dea_check_digit(digits[:6]) == int(digits[6])


_SUFFIXES = {"MD", "DO", "NP", "PA", "PA-C", "DDS", "DMD", "DPM", "OD", "APRN", "CNP", "JR", "SR", "II", "III", "PHD"}


def surname_of(full_name: str) -> str:
    """Best guess of the surname in 'Dr Ann Smith MD' or 'Smith, Ann' (for the DEA initial)."""
    text = (full_name or "").strip()
    if "," in text:
        head = text.split(",", 1)[0].split()
        if head and head[-1].upper().strip(".") not in _SUFFIXES:
            return head[-1]
    words = [w for w in text.replace(",", " ").split() if w.upper().strip(".") not in _SUFFIXES]
    return words[-1] if words else ""


def dea_matches_surname(value: str, surname: str) -> bool:
    """Return True when the DEA number's second letter is the surname's initial (or 9)."""
    text = (value or "").strip().upper()
    initial = (surname or "").strip()[:1].upper()
    return len(text) >= 2 and (text[1] == "9" or text[1] == initial)
