"""Block Kit rendering within Slack's limits, routing and renderer edge cases."""

from __future__ import annotations

import json

import pytest

from opskit.config import ConfigError
from slack_notifier.notice import Link, Notice
from slack_notifier.renderers import Incoming, render
from slack_notifier.routing import choose_webhook, parse_routes
from slack_notifier.slack_message import MAX_BLOCKS, PAYLOAD_MAX_CHARS, to_slack


def blocks_of(payload: dict[str, object]) -> list[dict[str, object]]:
    return payload["attachments"][0]["blocks"]  # type: ignore[index,no-any-return]


def test_layout_colour_mention_and_link() -> None:
    notice = Notice("cloudwatch.alarm", "critical", "ALARM: cpu-high", text="CPU > 80",
                    fields=(("State", "OK → ALARM"),), link=Link("Open alarm", "https://x"),
                    account="123456789012", region="eu-west-1")
    payload = to_slack(notice, mention="<!here>")
    assert payload["text"] == "<!here> ALARM: cpu-high"
    assert payload["attachments"][0]["color"] == "#d62728"
    kinds = [b["type"] for b in blocks_of(payload)]
    assert kinds == ["header", "section", "section", "actions", "context"]
    assert blocks_of(payload)[0]["text"]["text"] == ":red_circle: ALARM: cpu-high"
    assert blocks_of(payload)[-1]["elements"][0]["text"] == (
        "Account 123456789012 · Region eu-west-1 · cloudwatch.alarm")


def test_limits_truncate_visibly_and_never_fail() -> None:
    notice = Notice("cloudwatch.logs", "warning", "T" * 400, text="x" * 10_000,
                    fields=tuple((f"f{i}", "v" * 5000) for i in range(15)),
                    lines=tuple(f"ERROR line {i} " + "y" * 900 for i in range(2000)))
    payload = to_slack(notice)
    blocks = blocks_of(payload)
    assert len(blocks) <= MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) == 150
    assert blocks[0]["text"]["text"].endswith("…")
    assert len(blocks[1]["text"]["text"]) == 3000
    assert len(blocks[2]["fields"]) == 10
    assert all(len(f["text"]) <= 2000 for f in blocks[2]["fields"])
    sections = [b for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert len(json.dumps(payload)) <= PAYLOAD_MAX_CHARS
    assert any("more" in b["text"]["text"] and "…" in b["text"]["text"] for b in sections[2:])


def test_untrusted_text_cannot_mention_or_link() -> None:
    notice = render(Incoming("<!channel> click <https://evil|here>", subject="hello"))
    text = blocks_of(to_slack(notice))[1]["text"]["text"]
    assert "<!channel>" not in text
    assert text.startswith("&lt;!channel&gt;")


def test_routes_first_match_wins_else_default() -> None:
    raw = [{"webhook": "security", "source": ["aws.guardduty"]},
           {"webhook": "oncall", "severity": ["critical"], "account": "111122223333"}]
    routes = parse_routes(raw, json.dumps(raw))
    guard = Notice("aws.guardduty", "critical", "t", account="111122223333")
    oncall = Notice("cloudwatch.alarm", "critical", "t", account="111122223333")
    other_account = Notice("cloudwatch.alarm", "critical", "t", account="999999999999")
    assert choose_webhook(guard, routes) == "security"
    assert choose_webhook(oncall, routes) == "oncall"
    assert choose_webhook(other_account, routes) == "default"


@pytest.mark.parametrize(
    ("raw", "message"),
    [({"webhook": "x"}, "a JSON list of routes"),
     ([{"severity": ["critical"]}], 'route 0: an object with a "webhook" name'),
     ([{"webhook": "x", "severity": ["fatal"]}], "route 0: severities among"),
     ([{"webhook": "x", "colour": "red"}], "only webhook, severity, source, account"),
     ([{"webhook": "x", "source": [1]}], "route 0: a string or a list of strings")],
)
def test_bad_routes_name_the_variable(raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_routes(raw, json.dumps(raw))
    assert str(info.value).startswith("ROUTES=")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("payload", "severity", "title"),
    [({"AlarmName": "a", "NewStateValue": "EXPLODED", "AlarmArn":
       "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"}, "warning", "EXPLODED: a"),
     ({"AlarmName": "a", "NewStateValue": None}, "warning", "UNKNOWN: a"),
     ({"schema": "opskit.report/1", "severity": "meh", "title": "t", "actions": ["x", {}]},
      "warning", "t"),
     ({"detail-type": "Something New", "source": "aws.newservice", "detail": {"a": 1}},
      "info", "Something New (aws.newservice)"),
     ({"detail-type": "CodeBuild Build State Change", "source": "aws.codebuild",
       "region": "eu-west-1", "detail": "broken"}, "info",
      "CodeBuild Build State Change (aws.codebuild)"),
     ([1, 2, 3], "info", "JSON message")],
)
def test_odd_input_still_renders(payload: object, severity: str, title: str) -> None:
    notice = render(Incoming(payload))
    assert notice.severity == severity
    assert notice.title == title
    assert to_slack(notice)["attachments"]


def test_title_and_context_cannot_mention() -> None:
    notice = Notice("json", "info", "<!channel> hi", fields=(("<!here>", "x"),),
                    account="<!everyone>")
    payload = to_slack(notice)
    assert payload["text"] == "&lt;!channel&gt; hi"
    # the header is plain_text, where Slack renders no mentions; every mrkdwn part is escaped
    text = json.dumps(blocks_of(payload)[1:])
    assert "<!channel>" not in text
    assert "<!here>" not in text
    assert "<!everyone>" not in text


@pytest.mark.parametrize(
    "payload",
    [{"AlarmName": "a", "NewStateValue": "ALARM", "TriggeringChildren": [{"Arn": 5}],
      "AlarmRule": "x"},
     {"AlarmName": "a", "NewStateValue": "ALARM", "Trigger": {"Metrics": [{"MetricStat": 1}]}},
     {"logGroup": "/g", "logEvents": [], "subscriptionFilters": [1, 2]}],
)
def test_payloads_too_odd_for_their_renderer_are_shown_as_json(payload: object) -> None:
    notice = render(Incoming(payload))
    assert notice.source == "json"
    assert '"AlarmName"' in notice.text or '"logGroup"' in notice.text


def test_oversized_report_without_a_link_keeps_its_order() -> None:
    notice = Notice("opskit.report", "warning", "big", fields=(("Automation", "x"),),
                    lines=tuple("z" * 2900 for _ in range(40)))
    blocks = blocks_of(to_slack(notice))
    assert blocks[-1]["type"] == "context"
    assert "left out (size limit)" in blocks[-2]["text"]["text"]
    assert len(json.dumps(to_slack(notice))) <= PAYLOAD_MAX_CHARS
