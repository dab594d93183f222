"""catalog.vocabulary: free-text medication entries against a drug vocabulary (no database)."""

import pytest

from catalog.vocabulary import Term, find_terms, normalize, vocabulary

BENZO = frozenset({"benzodiazepine", "cns_depressant"})
OPIOID = frozenset({"opioid", "cns_depressant"})
VOCAB = vocabulary(
    [
        Term("alprazolam", "alprazolam", BENZO),
        Term("Xanax", "alprazolam", BENZO),
        Term("tramadol", "tramadol", OPIOID),
        Term("Ultram", "tramadol", OPIOID),
        Term("imipramine", "imipramine", frozenset({"tricyclic_antidepressant", "cns_depressant"})),
        Term("alcohol", "alcohol", frozenset({"alcohol", "cns_depressant"})),
        Term("MS Contin", "morphine", OPIOID),
        Term("morphine", "morphine", OPIOID),
    ]
)


def names(entry):
    return [t.name for t in find_terms(entry, VOCAB)]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("alprazolam 0.5 mg", ["alprazolam"]),
        ("Tramadol 50mg tablets", ["tramadol"]),
        ("tramadol HCl 50 mg", ["tramadol"]),
        ("Tramadol hydrochloride ER 100mg", ["tramadol"]),
        ("imipramine", ["imipramine"]),
        ("XANAX XR 1mg at bedtime", ["Xanax"]),
        ("ultram prn", ["Ultram"]),
        ("MS Contin 15 mg twice daily", ["MS Contin"]),
        ("alcohol socially, 2 glasses", ["alcohol"]),
        ("Xanax and tramadol", ["Xanax", "tramadol"]),
        ("alprazolams", ["alprazolam"]),
    ],
)
def test_ingredients_salts_brands_and_strengths_are_matched(entry, expected):
    assert names(entry) == expected


@pytest.mark.parametrize(
    "entry",
    [
        "no alcohol",
        "denies alcohol",
        "not taking tramadol",
        "stopped tramadol in May",
        "doesn't drink alcohol",
        "alcohol: none",
        "never alprazolam",
        "without Xanax",
    ],
)
def test_negated_terms_are_not_matched(entry):
    assert names(entry) == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("Xanax no side effects", ["Xanax"]),
        ("takes no more than 2 Xanax a day", ["Xanax"]),
        ("tramadol not to exceed 4 a day", ["tramadol"]),
        ("not more than 3 tramadol tablets a day", ["tramadol"]),
        ("alcohol: no", []),
        ("tramadol - none now", []),
    ],
)
def test_a_sig_limit_or_a_remark_after_the_name_is_not_a_negation(entry, expected):
    # Missing a drug the patient takes is worse than flagging one they do not: read negation narrowly.
    assert names(entry) == expected


def test_negation_ends_at_a_clause_break():
    assert names("stopped tramadol, now alprazolam") == ["alprazolam"]
    assert names("no alcohol but takes Xanax") == ["Xanax"]


def test_a_word_inside_another_is_not_a_match():
    assert names("tramadolol") == []
    assert names("alcohol-free mouthwash") == []  # trailing "free" negates


def test_normalize_splits_a_strength_from_its_word():
    assert normalize("Tramadol50mg") == "tramadol 50 mg"
    assert normalize("0.5mg") == "0.5 mg"


def test_empty_vocabulary_matches_nothing():
    assert find_terms("alprazolam", vocabulary([])) == []


def test_a_large_vocabulary_reads_a_long_list_right():
    # Speed is measured by benchmarks, never asserted in a test; this pins the results at size.
    terms = [Term(f"drug{n}zepam", f"drug{n}zepam", BENZO) for n in range(2000)]
    big = vocabulary(terms)
    entries = [f"drug{n}zepam 0.5 mg tablets twice daily, not taking drug{n + 1}zepam" for n in range(0, 2000, 2)]
    found = [find_terms(entry, big) for entry in entries]
    assert [len(f) for f in found] == [1] * len(entries)
