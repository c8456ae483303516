"""Notice -> Microsoft Teams message (an Adaptive Card) for a Teams Workflows webhook.

The same content, in the same order, as the Slack message of `slack_message.py`, within Teams'
size limit (truncated visibly, never refused). Untrusted text (everything in a Notice but the
link URL) only goes into `TextRun`s, which Teams shows as written: no Markdown, no mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_notifier.delivery import encode_json
from slack_notifier.notice import Notice
from slack_notifier.slack_message import MARK, MAX_FIELDS, clip

# Teams refuses messages over about 28 KB ("Request Entity Too Large", 413). The whole JSON body,
# as sent (non-ASCII is escaped as \uXXXX, so this counts an emoji as 12 bytes), stays
# under this margin, which also leaves room for what the workflow adds around the card.
TEAMS_PAYLOAD_MAX_BYTES = 20_000
# The "Post card" action of Workflows webhooks fails to show 1.5 cards; everything used here is
# from 1.2 (RichTextBlock, TextRun, ActionSet, container styles), which mobile clients show too.
CARD_VERSION = "1.4"
TITLE_MAX_CHARS = 150
TEXT_MAX_CHARS = 3000
FIELD_NAME_MAX_CHARS = 100
FIELD_VALUE_MAX_CHARS = 1000
LINE_MAX_CHARS = 1000
LINES_MAX_CHARS = 10_000  # the list's budget, before the size limit is even looked at
LINES_BLOCK_MAX_CHARS = 3000  # lines are packed into blocks of this size
CONTEXT_MAX_CHARS = 500

MARKER = {"critical": "🔴", "warning": "⚠️", "info": "ℹ️", "ok": "✅"}  # noqa: RUF001
STYLE = {"critical": "attention", "warning": "warning", "info": "accent", "ok": "good"}
# The Slack emoji codes that renderers put in front of list lines (report actions, CodeStar's
# failed actions): Teams shows them as the emoji.
_SLACK_EMOJI = {":white_check_mark:": "✅", ":memo:": "📝", ":fast_forward:": "⏩", ":x:": "❌"}
_AT_TAG = re.compile(r"<(?=/?at\b)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


@dataclass(frozen=True, slots=True)
class TeamsMention:
    name: str  # display name shown, e.g. "On-call"
    id: str  # the user's UPN / Entra object id (or a tag id) Teams resolves

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.id.strip() or any(c in self.name for c in "<>"):
            raise ValueError(f"invalid Teams mention {self.name!r} ({self.id!r}): expected a "
                             "display name without < or > and an id")


def _neutral(text: str) -> str:
    """Untrusted text: an `<at>` tag is broken by an invisible word joiner, so it is shown as
    written and never resolved to a mention (TextRun already ignores Markdown)."""
    return _AT_TAG.sub("<" + _WORD_JOINER, text)


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": _neutral(text), **style}


def _rich(*runs: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs), **props}


def _note(text: str) -> dict[str, Any]:
    return _rich(_run(text, isSubtle=True, italic=True))


def _field(name: str, value: str) -> dict[str, Any]:
    return {"type": "Column", "width": "stretch", "items": [
        _rich(_run(clip(name, FIELD_NAME_MAX_CHARS), weight="Bolder")),
        _rich(_run(clip(value, FIELD_VALUE_MAX_CHARS) or "-"), spacing="None")]}


def _fields(fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Two columns per row, like Slack's fields; no FactSet, whose titles and values Teams reads
    as Markdown."""
    shown = fields[:MAX_FIELDS]
    rows: list[dict[str, Any]] = [
        {"type": "ColumnSet", "columns": [_field(*field) for field in shown[i:i + 2]]}
        for i in range(0, len(shown), 2)]
    for row in rows:  # an odd last field keeps its half width
        if len(row["columns"]) == 1:
            row["columns"].append({"type": "Column", "width": "stretch", "items": []})
    return {"type": "Container", "items": rows}


def _lines(notice: Notice) -> list[dict[str, Any]]:
    """The list, packed into blocks, up to the list's budget, then a visible count of the rest."""
    blocks: list[str] = []
    used = shown = 0
    for raw in notice.lines:
        line = raw
        mark, _, rest = line.partition(" ")  # report and CodeStar lines start with a code
        line = f"{_SLACK_EMOJI[mark]} {rest}" if mark in _SLACK_EMOJI else line
        line = clip(line, LINE_MAX_CHARS)
        if used + len(line) > LINES_MAX_CHARS:
            break
        if blocks and len(blocks[-1]) + 1 + len(line) <= LINES_BLOCK_MAX_CHARS:
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
        used += len(line) + 1
        shown += 1
    elements = [_rich(_run(block), separator=index == 0) for index, block in enumerate(blocks)]
    hidden = len(notice.lines) - shown
    if hidden:
        elements.append(_note(f"{MARK} {hidden} more line{'s' if hidden != 1 else ''} not shown")
                        | {"id": "hidden-lines"})
    return elements


def to_teams(notice: Notice, *, mention: TeamsMention | None = None) -> dict[str, Any]:
    """A Workflows webhook body: one message with one Adaptive Card attachment."""
    title = _run(f"{MARKER[notice.severity]} {clip(notice.title, TITLE_MAX_CHARS)}",
                 size="Large", weight="Bolder")
    header = {"type": "Container", "style": STYLE[notice.severity], "bleed": True,
              "items": [_rich(title)]}
    shorten: list[dict[str, Any]] = []  # in this order, if all else fails
    head: list[dict[str, Any]] = [header]
    msteams: dict[str, Any] = {"width": "Full"}
    if mention is not None:
        tag = f"<at>{mention.name}</at>"
        head.append({"type": "TextBlock", "text": tag, "wrap": True})
        msteams["entities"] = [{"type": "mention", "text": tag,
                                "mentioned": {"id": mention.id, "name": mention.name}}]
    if notice.text:
        style = {"fontType": "Monospace"} if notice.source == "json" else {}
        text = _run(clip(notice.text, TEXT_MAX_CHARS), **style)
        head.append(_rich(text))
        shorten.append(text)
    content: list[dict[str, Any]] = []  # what may be left out: fields, then the list
    if notice.fields:
        content.append(_fields(notice.fields))
    if notice.lines:
        content.extend(_lines(notice))
    tail: list[dict[str, Any]] = []
    if notice.link is not None:
        tail.append({"type": "ActionSet", "actions": [{
            "type": "Action.OpenUrl", "title": notice.link.label, "url": notice.link.url}]})
    where = " · ".join(part for part in (
        f"Account {notice.account}" if notice.account else "",
        f"Region {notice.region}" if notice.region else "",
        notice.source) if part)
    context = _run(clip(where, CONTEXT_MAX_CHARS), isSubtle=True, size="Small")
    tail.append(_rich(context, separator=True))
    shorten += [context, title]
    card = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION, "msteams": msteams, "body": []}
    payload = {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": card}]}
    _fit(payload, head, content, tail, shorten)
    return payload


def size_of(payload: dict[str, Any]) -> int:
    """The body's size in bytes, as it is sent (delivery.encode_json)."""
    return len(encode_json(payload))


def _fit(payload: dict[str, Any], head: list[dict[str, Any]], content: list[dict[str, Any]],
         tail: list[dict[str, Any]], shorten: list[dict[str, Any]]) -> None:
    """Fill the card's body: content elements are left out from the end (the list, then the
    fields) until it fits, and a note says so. Header, mention, text, button and context stay;
    if they alone are too big, the runs in `shorten` (text, context, title) are cut shorter."""
    card = payload["attachments"][0]["content"]
    dropped = 0
    while True:
        note = ([_note(f"{MARK} {dropped} more section{'s' if dropped != 1 else ''} "
                       "left out (size limit)")] if dropped else [])
        card["body"] = head + content + note + tail
        if size_of(payload) <= TEAMS_PAYLOAD_MAX_BYTES or not content:
            break
        if content.pop().get("id") != "hidden-lines":  # that note goes with its lines
            dropped += 1
    for run in shorten:  # last resort, for huge multi-byte text: shorter and shorter
        while size_of(payload) > TEAMS_PAYLOAD_MAX_BYTES and run["text"]:
            run["text"] = clip(run["text"], len(run["text"]) // 2) if len(run["text"]) > 2 else ""
