"""Notice -> Teams Adaptive Card: layout, severity, mention, escaping, size limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slack_notifier import sources
from slack_notifier.notice import SEVERITIES, Link, Notice
from slack_notifier.renderers import Incoming, render
from slack_notifier.teams_message import (
    CARD_VERSION,
    TEAMS_PAYLOAD_MAX_BYTES,
    TEXT_MAX_CHARS,
    TITLE_MAX_CHARS,
    TeamsMention,
    to_teams,
)

EVENTS = Path(__file__).resolve().parents[2] / "events" / "slack_notifier"
ALARM = Notice("cloudwatch.alarm", "critical", "ALARM: cpu-high", text="CPU > 80",
               fields=(("State", "OK → ALARM"), ("Metric", "AWS/EC2 CPUUtilization"),
                       ("Since", "2026-11-23T10:00:00Z")),
               lines=("first line", "second line"), link=Link("Open alarm", "https://x"),
               account="123456789012", region="eu-west-1")
HOSTILE = ("see [click](https://evil.example) **x** _y_ <at>Someone</at> <AT>Boss</At> "
           "<!channel> - item\r1. one")


def card_of(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["attachments"][0]["content"]  # type: ignore[no-any-return]


def body_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return card_of(payload)["body"]  # type: ignore[no-any-return]


def kinds(payload: dict[str, Any]) -> list[str]:
    return [element["type"] for element in body_of(payload)]


def text_of(element: dict[str, Any]) -> str:
    """All the text of an element, its children's included."""
    if element.get("type") == "TextRun":
        return str(element["text"])
    if element.get("type") == "TextBlock":
        return str(element["text"])
    parts = [text_of(child) for key in ("inlines", "items", "columns")
             for child in element.get(key, [])]
    return "\n".join(parts)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def size(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload).encode())


def test_message_envelope_for_a_workflows_webhook() -> None:
    payload = to_teams(ALARM)
    assert payload["type"] == "message"
    assert len(payload["attachments"]) == 1
    attachment = payload["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == CARD_VERSION == "1.4"
    assert card["msteams"] == {"width": "Full"}
    json.dumps(payload, allow_nan=False)  # what requests sends


def test_layout_in_slack_order() -> None:
    payload = to_teams(ALARM)
    assert kinds(payload) == ["Container", "RichTextBlock", "Container", "RichTextBlock",
                              "ActionSet", "RichTextBlock"]
    header, text, fields, lines, button, context = body_of(payload)
    assert text_of(header) == "🔴 ALARM: cpu-high"
    assert header["items"][0]["inlines"][0]["weight"] == "Bolder"
    assert text_of(text) == "CPU > 80"
    rows = fields["items"]
    assert [row["type"] for row in rows] == ["ColumnSet", "ColumnSet"]
    assert [len(row["columns"]) for row in rows] == [2, 2]  # two columns, the last half empty
    assert text_of(rows[0]["columns"][0]) == "State\nOK → ALARM"
    assert rows[1]["columns"][1]["items"] == []
    assert text_of(lines) == "first line\nsecond line"
    assert button["actions"] == [{"type": "Action.OpenUrl", "title": "Open alarm",
                                  "url": "https://x"}]
    assert text_of(context) == "Account 123456789012 · Region eu-west-1 · cloudwatch.alarm"


def test_minimal_notice_has_header_and_context_only() -> None:
    payload = to_teams(Notice("text", "info", "Message"))
    assert kinds(payload) == ["Container", "RichTextBlock"]
    assert text_of(body_of(payload)[-1]) == "text"


@pytest.mark.parametrize(("severity", "style", "marker"), [
    ("critical", "attention", "🔴"), ("warning", "warning", "⚠️"),
    ("info", "accent", "ℹ️"), ("ok", "good", "✅")])  # noqa: RUF001
def test_severity_style_and_marker(severity: str, style: str, marker: str) -> None:
    payload = to_teams(Notice("text", severity, "Title"))  # type: ignore[arg-type]
    header = body_of(payload)[0]
    assert header["style"] == style
    assert header["bleed"] is True
    assert text_of(header) == f"{marker} Title"


def test_every_severity_has_a_style() -> None:
    assert len({body_of(to_teams(Notice("text", s, "t")))[0]["style"] for s in SEVERITIES}) == 4


def test_mention_entity_is_exact() -> None:
    payload = to_teams(ALARM, mention=TeamsMention("On-call", "oncall@example.com"))
    assert card_of(payload)["msteams"] == {"width": "Full", "entities": [
        {"type": "mention", "text": "<at>On-call</at>",
         "mentioned": {"id": "oncall@example.com", "name": "On-call"}}]}
    assert body_of(payload)[1] == {"type": "TextBlock", "text": "<at>On-call</at>", "wrap": True}
    assert kinds(payload)[:3] == ["Container", "TextBlock", "RichTextBlock"]


def test_no_mention_no_entities_and_no_textblock() -> None:
    payload = to_teams(ALARM)
    assert "entities" not in card_of(payload)["msteams"]
    assert not [node for node in walk(payload) if node.get("type") == "TextBlock"]


@pytest.mark.parametrize(("name", "id_"), [("", "x"), ("On-call", " "), ("<at>x</at>", "x")])
def test_bad_mention_is_refused(name: str, id_: str) -> None:
    with pytest.raises(ValueError, match="invalid Teams mention"):
        TeamsMention(name, id_)


def test_json_text_is_monospace() -> None:
    notice = render(Incoming({"a": [1, 2]}))
    assert notice.source == "json"
    text = body_of(to_teams(notice))[1]["inlines"][0]
    assert text["fontType"] == "Monospace"
    assert text["text"] == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    plain = body_of(to_teams(Notice("text", "info", "t", text="x")))[1]["inlines"][0]
    assert "fontType" not in plain


def test_untrusted_text_is_only_in_text_runs() -> None:
    notice = Notice(HOSTILE, "critical", HOSTILE, text=HOSTILE, fields=((HOSTILE, HOSTILE),),
                    lines=(HOSTILE,), account=HOSTILE, region=HOSTILE)
    payload = to_teams(notice, mention=TeamsMention("On-call", "oncall@example.com"))
    # The only elements Teams reads Markdown and <at> in: our one TextBlock. No FactSet.
    markdown = [node for node in walk(payload) if node.get("type") in ("TextBlock", "FactSet")]
    assert markdown == [{"type": "TextBlock", "text": "<at>On-call</at>", "wrap": True}]
    runs = [node for node in walk(payload) if node.get("type") == "TextRun"]
    assert len(runs) == 6  # title, text, field name and value, line, context
    for run in runs:
        text = run["text"]
        # shown as written: links, bold, lists and <!channel> stay literal characters
        assert "[click](https://evil.example) **x** _y_" in text
        assert "<!channel>" in text
        # <at> can never become a mention: an invisible word joiner breaks the tag
        assert "<at>" not in text.lower()
        assert "</at>" not in text.lower()
        assert "<\u2060at>Someone<\u2060/at>" in text
        assert "<\u2060AT>Boss<\u2060/At>" in text
    entities = card_of(payload)["msteams"]["entities"]
    assert [e["text"] for e in entities] == ["<at>On-call</at>"]


def test_report_marks_become_emoji() -> None:
    notice = Notice("opskit.report", "warning", "r",
                    lines=(":white_check_mark: done stop ec2 `i-1`: x", ":x: failed stop ec2 `i-2`",
                           ":memo: planned", ":fast_forward: skipped", "a :x: b"))
    lines = body_of(to_teams(notice))[1]
    assert text_of(lines).split("\n") == ["✅ done stop ec2 `i-1`: x", "❌ failed stop ec2 `i-2`",
                                          "📝 planned", "⏩ skipped", "a :x: b"]


def test_lines_budget_says_how_many_are_not_shown() -> None:
    notice = Notice("cloudwatch.logs", "warning", "logs", lines=tuple(
        f"ERROR {i} " + "y" * 490 for i in range(100)))
    payload = to_teams(notice)
    notes = [text_of(e) for e in body_of(payload) if "not shown" in text_of(e)]
    assert len(notes) == 1
    hidden = int(notes[0].split()[1])
    shown = sum(text_of(e).count("ERROR ") for e in body_of(payload))
    assert notes[0] == f"… {hidden} more lines not shown"
    assert shown + hidden == 100
    assert 0 < hidden < 100
    assert size(payload) <= TEAMS_PAYLOAD_MAX_BYTES


def test_one_line_not_shown_is_singular() -> None:
    notice = Notice("cloudwatch.logs", "warning", "logs", lines=("x" * 999,) * 10 + ("y",))
    texts = [text_of(e) for e in body_of(to_teams(notice))]
    assert "… 1 more line not shown" in texts


def test_huge_ascii_input_is_cut_visibly_and_fits() -> None:
    notice = Notice("cloudwatch.logs", "warning", "T" * 400, text="x" * 10_000,
                    fields=tuple((f"f{i}", "v" * 5000) for i in range(15)),
                    lines=tuple(f"ERROR line {i} " + "y" * 900 for i in range(2000)),
                    link=Link("Open log stream", "https://example.com/logs"),
                    account="123456789012", region="eu-west-1")
    payload = to_teams(notice)
    assert size(payload) <= TEAMS_PAYLOAD_MAX_BYTES
    body = body_of(payload)
    title = text_of(body[0])
    assert len(title) == len("⚠️ ") + TITLE_MAX_CHARS
    assert title.endswith("…")
    assert len(text_of(body[1])) == TEXT_MAX_CHARS
    assert text_of(body[1]).endswith("…")
    # sections were left out, with a note before the button and the context line
    assert [e["type"] for e in body[-2:]] == ["ActionSet", "RichTextBlock"]
    assert text_of(body[-1]) == "Account 123456789012 · Region eu-west-1 · cloudwatch.logs"
    note = text_of(body[-3])
    assert note.startswith("… ")
    assert note.endswith("more sections left out (size limit)")


@pytest.mark.parametrize("char", ["😀", "漢", "é"])
def test_huge_multibyte_input_fits(char: str) -> None:
    notice = Notice("cloudwatch.logs", "critical", char * 400, text=char * 20_000,
                    fields=tuple((char * 50, char * 5000) for _ in range(12)),
                    lines=tuple(char * 2000 for _ in range(500)),
                    link=Link("Open", "https://example.com"), account=char * 40,
                    region="eu-west-1")
    payload = to_teams(notice, mention=TeamsMention("On-call", "oncall@example.com"))
    assert size(payload) <= TEAMS_PAYLOAD_MAX_BYTES
    assert len(json.dumps(payload, ensure_ascii=False).encode()) <= TEAMS_PAYLOAD_MAX_BYTES
    body = body_of(payload)
    # header, mention, text, button and context stay; the text is cut, visibly
    assert kinds(payload)[:3] == ["Container", "TextBlock", "RichTextBlock"]
    assert kinds(payload)[-2:] == ["ActionSet", "RichTextBlock"]
    assert body[2]["inlines"][0]["text"].startswith(char)
    assert body[2]["inlines"][0]["text"].endswith("…")
    assert text_of(body[0]).endswith("…")


def test_absurd_header_and_context_still_fit_without_raising() -> None:
    notice = Notice("😀" * 100_000, "info", "😀" * 100_000, text="😀" * 100_000,
                    account="😀" * 100_000, region="😀" * 100_000)
    payload = to_teams(notice)
    assert size(payload) <= TEAMS_PAYLOAD_MAX_BYTES
    assert kinds(payload) == ["Container", "RichTextBlock", "RichTextBlock"]


def test_fields_are_dropped_after_the_lines() -> None:
    notice = Notice("cloudwatch.logs", "warning", "t",
                    fields=(("Log group", "g"), ("Stream", "s")),
                    lines=tuple("😀" * 900 for _ in range(10)))
    payload = to_teams(notice)
    assert size(payload) <= TEAMS_PAYLOAD_MAX_BYTES
    body = body_of(payload)
    assert body[1]["type"] == "Container"  # the fields stay
    assert text_of(body[1]).startswith("Log group\ng")
    assert any(text_of(e).endswith("left out (size limit)") for e in body)


@pytest.mark.parametrize("name", ["sqs-alarm-metric.json", "eventbridge-guardduty-finding.json",
                                  "logs-subscription-errors.json", "sqs-opskit-report.json",
                                  "sqs-alarm-ok.json", "sqs-unknown-json.json"])
def test_samples_render(name: str) -> None:
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    if sources.is_sqs_batch(event):
        incoming = [sources.from_sqs_body(r["body"], "eu-west-1") for r in event["Records"]]
    else:
        incoming = sources.from_direct_event(event, "eu-west-1")
    for item in incoming:
        payload = to_teams(render(item))
        assert size(payload) <= TEAMS_PAYLOAD_MAX_BYTES
        assert kinds(payload)[0] == "Container"
        assert not any("left out" in text_of(e) for e in body_of(payload))
