"""core.inputs: where the first NUL character of parsed request data is."""

import pytest

from core.inputs import nul_field, nul_path


@pytest.mark.parametrize(
    "data, path",
    [
        ({"a": "ok", "b": {"c": ["x", "y\x00"]}}, "b.c[1]"),
        ({"a\x00": "ok"}, "a\\x00"),
        ("x\x00", "body"),
        ([{"k": 1}, {"k": "v\x00"}], "[1].k"),
        ({"a": "ok", "n": 3, "none": None, "list": ["x"]}, None),
    ],
)
def test_nul_path_names_the_first_nul(data, path):
    assert nul_path(data) == path


def test_nul_field_names_the_field_of_a_query_dict_listing():
    assert nul_field([("ok", ["a"]), ("name", ["b", "c\x00"])]) == "name"
    assert nul_field([("k\x00", [])]) == "k\\x00"
    assert nul_field([("ok", ["a"])]) is None
