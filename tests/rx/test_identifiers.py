"""NPI and DEA check digits (pure, no database)."""

import pytest

from rx.identifiers import dea_is_valid, dea_matches_surname, luhn_is_valid, npi_is_valid, surname_of


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "2000000002", " 1234567893 "])
def test_npi_with_right_check_digit_is_valid(npi):
    assert npi_is_valid(npi)


@pytest.mark.parametrize(
    "npi",
    [
        "1234567890",  # wrong check digit (DOMAIN.md example)
        "3234567893",  # must start with 1 or 2
        "123456789",  # nine digits
        "12345678930",  # eleven digits
        "12345678a3",
        "１２３４５６７８９３",  # non-ASCII digits
        "",
        None,
        1234567893,
    ],
)
def test_npi_failing_format_or_check_digit_is_invalid(npi):
    assert not npi_is_valid(npi)


def test_npi_check_digit_uses_the_80840_prefix():
    # Luhn over the bare 10 digits would accept 1234567897; only the 80840-prefixed form decides.
    assert luhn_is_valid("1234567897") and not npi_is_valid("1234567897")
    assert luhn_is_valid("808401234567893")


@pytest.mark.parametrize("dea", ["AB1234563", "ab1234563", "BJ6125341", "F91234563"])
def test_dea_with_right_checksum_is_valid(dea):
    assert dea_is_valid(dea)


@pytest.mark.parametrize("dea", ["AB1234564", "A11234563", "AB123456", "AB12345633", "1B1234563", "", None])
def test_dea_failing_format_or_checksum_is_invalid(dea):
    assert not dea_is_valid(dea)


def test_dea_second_letter_is_the_surname_initial():
    assert dea_matches_surname("AB1234563", "Brown")
    assert not dea_matches_surname("AB1234563", "Smith")


@pytest.mark.parametrize("name", ["Dr Ann Smith", "Ann Smith, MD", "Smith, Ann", "Dr. Ann B. Smith Jr."])
def test_surname_is_found_in_the_usual_name_forms(name):
    assert surname_of(name) == "Smith"
