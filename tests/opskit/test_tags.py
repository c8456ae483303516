from __future__ import annotations

from enum import StrEnum

import pytest

from opskit.tags import dict_to_tags, enum_tag, is_exempt, tags_to_dict


def test_round_trip() -> None:
    tags = [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}, {"Key": "c"}]
    as_dict = tags_to_dict(tags)
    assert as_dict == {"a": "1", "b": "2", "c": ""}
    assert dict_to_tags(as_dict) == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"},
                                     {"Key": "c", "Value": ""}]
    assert tags_to_dict(None) == {}


@pytest.mark.parametrize(("value", "exempt"),
                         [("true", True), ("TRUE ", True), ("yes", True), ("1", True), ("On", True),
                          ("false", False), ("", False), (None, False)])
def test_exemption_values(value: str | None, exempt: bool) -> None:
    tags = {} if value is None else {"opskit:exempt": value}
    assert is_exempt(tags, "opskit:exempt") is exempt


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


def test_an_enum_tag_ignores_case_and_spaces_and_defaults_when_absent() -> None:
    assert enum_tag({"k": " RED "}, "k", Colour, Colour.BLUE) is Colour.RED
    assert enum_tag({}, "k", Colour, Colour.BLUE) is Colour.BLUE


def test_an_enum_tag_that_is_no_value_names_the_tag_and_the_values() -> None:
    with pytest.raises(ValueError, match=r"^tag k='green' is invalid: expected red, blue$"):
        enum_tag({"k": "green"}, "k", Colour, Colour.BLUE)
