"""Field masks by JSON path: personal data never reaches a record, the raw line included."""

from __future__ import annotations

import json

import pytest

from log_shipper.masks import MASK, mask_fields, parse_mask
from log_shipper.parsing import Source, parse_event
from log_shipper.payload import LogEvent


def masked(fields: dict[str, object], *paths: str) -> dict[str, object]:
    return mask_fields(fields, tuple(parse_mask(p) for p in paths))


def test_a_nested_key() -> None:
    fields = {"user": {"id": "u-1", "email": "jane@example.com"}, "order": "o-1"}
    assert masked(fields, "$.user.email") == {"user": {"id": "u-1", "email": MASK},
                                              "order": "o-1"}
    assert fields["user"] == {"id": "u-1", "email": "jane@example.com"}  # not changed in place


def test_any_key_and_every_list_element() -> None:
    fields = {"headers": {"authorization": "Bearer x", "cookie": "c"},
              "items": [{"sku": "a", "card": "4111"}, {"sku": "b"}, "odd"]}
    assert masked(fields, "$.headers.*", "$.items[*].card") == {
        "headers": {"authorization": MASK, "cookie": MASK},
        "items": [{"sku": "a", "card": MASK}, {"sku": "b"}, "odd"]}


def test_a_path_that_names_nothing_changes_nothing() -> None:
    fields = {"user": "plain"}
    assert masked(fields, "$.user.email", "$.missing", "$.user[*].x") == fields


@pytest.mark.parametrize(("path", "why"), [
    ("user.email", r"starting with \$\."),
    ("$.user..email", "is not one"),
    ("$.us er", "is not one"),
])
def test_a_bad_path_is_refused_with_the_reason(path: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_mask(path)


def test_a_masked_json_line_keeps_no_copy_of_the_value() -> None:
    line = json.dumps({"level": "INFO", "message": "signed up", "user": {
        "email": "jane@example.com"}})
    record = parse_event(LogEvent("1", 0, line), Source("123456789012", "eu-west-1", "/g", "s"),
                         (parse_mask("$.user.email"),))
    assert record["fields"] == {"level": "INFO", "message": "signed up",
                                "user": {"email": MASK}}
    assert "jane@example.com" not in json.dumps(record)
