"""NDC parsing (catalog.ndc): pure, no database."""

import pytest

from catalog.ndc import InvalidNDC, format_ndc, is_valid_ndc, normalize_ndc


@pytest.mark.parametrize(
    ("printed", "billing"),
    [
        ("0574-4072-05", "00574407205"),  # 4-4-2: pad the labeler
        ("51655-089-52", "51655008952"),  # 5-3-2: pad the product
        ("58118-1397-3", "58118139703"),  # 5-4-1: pad the package
    ],
)
def test_each_hyphenated_10_digit_form_becomes_11_digits_as_in_the_domain_examples(printed, billing):
    assert normalize_ndc(printed) == billing


def test_padded_forms_display_as_the_domain_examples():
    assert format_ndc(normalize_ndc("0574-4072-05")) == "00574-4072-05"
    assert format_ndc(normalize_ndc("51655-089-52")) == "51655-0089-52"
    assert format_ndc(normalize_ndc("58118-1397-3")) == "58118-1397-03"


def test_11_digits_plain_and_hyphenated_are_accepted_as_is():
    assert normalize_ndc("00832102400") == "00832102400"
    assert normalize_ndc("00832-1024-00") == "00832102400"
    assert normalize_ndc("  00832-1024-00\n") == "00832102400"


def test_the_seed_sku_displays_as_5_4_2():
    assert format_ndc("00832102400") == "00832-1024-00"


def test_unhyphenated_10_digits_are_refused_as_ambiguous():
    with pytest.raises(InvalidNDC, match="ambiguous"):
        normalize_ndc("0574407205")


@pytest.mark.parametrize("shape", ["0574-407-205", "5165-0089-5", "51655-08952-1", "1234-123-12", "12345-12-12"])
def test_wrong_segment_shapes_are_refused(shape):
    with pytest.raises(InvalidNDC):
        normalize_ndc(shape)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0083210240A",
        "ABCDE-1234-00",
        "00832-1024-0O",
        "008321024000",  # 12 digits
        "008321024",  # 9 digits
        "00832--1024-00",
        "00832 1024 00",
        "00832_1024_00",
        "-00832-1024-00",
        "٠٠٨٣٢١٠٢٤٠٠",  # Arabic-Indic digits: \d would take them, the database would not
        "00832-1024-00\x00",
    ],
)
def test_letters_empty_text_and_other_junk_are_refused(text):
    with pytest.raises(InvalidNDC):
        normalize_ndc(text)
    assert not is_valid_ndc(text)


@pytest.mark.parametrize("value", [None, 832102400, b"00832102400"])
def test_non_text_is_refused(value):
    with pytest.raises(InvalidNDC):
        normalize_ndc(value)


@pytest.mark.parametrize("value", ["0083210240", "00832-1024-00", "", None])
def test_format_requires_the_stored_11_digit_form(value):
    with pytest.raises(InvalidNDC):
        format_ndc(value)


def test_invalid_ndc_is_a_value_error_so_forms_can_catch_it_generically():
    assert issubclass(InvalidNDC, ValueError)
