"""What identifies what is shipped: an object key per delivery (every event id and the filters
that sent it), an OpenSearch document id per owner, log group and event; out-of-range values
refused with the field named; masks that match keys in any case and go through lists; and a
line that looks like JSON but cannot be parsed withheld when masks are configured."""

from __future__ import annotations

import json
from typing import Any

import pytest

from log_shipper import app
from log_shipper.masks import MASK, parse_mask
from log_shipper.opensearch import bulk_lines
from log_shipper.parsing import UNPARSED_WITHHELD, Source, parse_delivery, parse_event
from log_shipper.payload import MAX_TIMESTAMP_MS, Delivery, LogEvent, read_delivery
from log_shipper.writer import delivery_name
from opskit.events import EventError
from tests.conftest import FakeLambdaContext
from tests.log_shipper.conftest import ACCOUNT, objects, payload, rows, wrap

SOURCE = Source(ACCOUNT, "eu-west-1", "/a", "s")


def _split(first: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two deliveries with the same stream, first and last id and count: [a, b, d], [a, c, d]."""
    events = first["logEvents"]
    one = {**first, "subscriptionFilters": ["opskit-log-shipper"],
           "logEvents": [events[0], events[1], events[3]]}
    two = {**first, "subscriptionFilters": ["errors-to-shipper"],
           "logEvents": [events[0], events[2], events[3]]}
    return one, two


@pytest.mark.usefixtures("shipper_env")
def test_two_deliveries_with_the_same_first_and_last_event_keep_every_event(
        lambda_context: FakeLambdaContext) -> None:
    one, two = _split(payload(["a", "b", "c", "d"]))
    app.lambda_handler(wrap(one), lambda_context)
    app.lambda_handler(wrap(two), lambda_context)
    kept = sorted(row["message"] for body in objects().values() for row in rows(body))
    assert kept == ["a", "a", "b", "c", "d", "d"]


def test_the_delivery_name_covers_every_event_id_and_the_filter_names() -> None:
    body = payload(["a", "b", "c", "d"])
    one, two = _split(body)
    same_events = {**one, "subscriptionFilters": ["errors-to-shipper"]}
    names = {delivery_name(read_delivery(wrap(b))) for b in (one, two, same_events)}
    assert len(names) == 3
    # The same delivery, retried, gets the same name.
    assert delivery_name(read_delivery(wrap(one))) == delivery_name(
        read_delivery(wrap(json.loads(json.dumps(one)))))


def test_the_same_event_id_in_two_log_groups_or_accounts_gets_two_document_ids() -> None:
    event = LogEvent("38600000000000000000000000000000000000000000000000000001",
                     1_795_417_200_000, "x")
    deliveries = [Delivery("DATA_MESSAGE", ACCOUNT, "/a", "s", (), (event,)),
                  Delivery("DATA_MESSAGE", ACCOUNT, "/b", "s", (), (event,)),
                  Delivery("DATA_MESSAGE", "210987654321", "/a", "s", (), (event,))]
    ids = [json.loads(bulk_lines(parse_delivery(d, "eu-west-1"), "logs-")[0].split(b"\n")[0])
           ["index"]["_id"] for d in deliveries]
    assert len(set(ids)) == 3
    again = json.loads(bulk_lines(parse_delivery(deliveries[0], "eu-west-1"), "logs-")[0]
                       .split(b"\n")[0])["index"]["_id"]
    assert again == ids[0]


@pytest.mark.usefixtures("shipper_env")
@pytest.mark.parametrize(("field", "value"), [
    ("timestamp", 10**17),  # past datetime's year 9999
    ("timestamp", MAX_TIMESTAMP_MS + 1),
    ("logStream", "stream-\ud800"),  # a lone surrogate: not UTF-8
])
def test_an_out_of_range_value_is_refused_with_the_field_named(
        field: str, value: object, lambda_context: FakeLambdaContext) -> None:
    body = payload(["x"])
    if field == "timestamp":
        body["logEvents"][0]["timestamp"] = value
    else:
        body[field] = value
    with pytest.raises(EventError, match=field):
        app.lambda_handler(wrap(body), lambda_context)
    assert objects() == {}


def test_the_largest_timestamp_is_accepted() -> None:
    body = payload(["x"])
    body["logEvents"][0]["timestamp"] = MAX_TIMESTAMP_MS
    assert read_delivery(wrap(body)).events[0].timestamp_ms == MAX_TIMESTAMP_MS


@pytest.mark.parametrize("line", [
    # Too deep for json.loads (RecursionError).
    json.dumps({"user": {"email": "jane@example.com"}})[:-1] + ', "d": ' + "[" * 60000
    + "]" * 60000 + "}",
    # Malformed.
    '{"user": {"email": "jane@example.com"}, oops}',
])
def test_an_unparsable_json_line_is_withheld_when_masks_are_configured(line: str) -> None:
    record = parse_event(LogEvent("1", 1_795_417_200_000, line), SOURCE,
                         (parse_mask("$.user.email"),))
    assert "jane@example.com" not in json.dumps(record)
    assert (record["message"], record["kind"], record["fields"]) == (
        UNPARSED_WITHHELD, "raw", None)


def test_an_unparsable_json_line_is_kept_as_it_came_without_masks() -> None:
    line = '{"user": "jane", oops}'
    assert parse_event(LogEvent("1", 1_795_417_200_000, line), SOURCE)["message"] == line


@pytest.mark.parametrize(("fields", "path"), [
    ({"headers": {"Authorization": "Bearer secret-token"}}, "$.headers.authorization"),
    ({"HEADERS": {"authorization": "Bearer secret-token"}}, "$.headers.authorization"),
    ({"user": [{"email": "secret-token@example.com"}]}, "$.user.email"),
    ({"users": [[{"email": "secret-token@example.com"}]]}, "$.users.email"),
    ({"user": {"Email": ["secret-token@example.com"]}}, "$.user.email"),
])
def test_a_mask_matches_the_key_in_any_case_and_through_lists(fields: dict[str, Any],
                                                               path: str) -> None:
    record = parse_event(LogEvent("1", 1_795_417_200_000, json.dumps(fields)), SOURCE,
                         (parse_mask(path),))
    assert "secret-token" not in json.dumps(record)
    assert MASK in json.dumps(record["fields"])
