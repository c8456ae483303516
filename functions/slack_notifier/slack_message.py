"""Notice -> Slack Block Kit payload, within Slack's limits (truncated visibly, never refused)."""

from __future__ import annotations

import json
from typing import Any

from slack_notifier.notice import Notice

MAX_BLOCKS = 50
HEADER_MAX_CHARS = 150
SECTION_MAX_CHARS = 3000
FIELD_MAX_CHARS = 2000
MAX_FIELDS = 10
CONTEXT_MAX_CHARS = 2000
# Slack truncates message text past 40,000 characters; stay well below for the whole payload.
PAYLOAD_MAX_CHARS = 35_000
MARK = "…"
EMOJI = {"critical": ":red_circle:", "warning": ":warning:", "info": ":information_source:",
         "ok": ":white_check_mark:"}
COLOR = {"critical": "#d62728", "warning": "#ff9f1c", "info": "#1f77b4", "ok": "#2ca02c"}


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending with a visible mark when something was cut."""
    return text if len(text) <= limit else text[: limit - len(MARK)] + MARK


def _escape(text: str) -> str:
    # mrkdwn control characters (links and mentions stay ours, not the payload's)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_MAX_CHARS)}}


def _line_sections(lines: tuple[str, ...], budget: int) -> list[dict[str, Any]]:
    """Lines packed into sections of at most 3,000 characters and `budget` blocks."""
    sections: list[str] = []
    current = ""
    shown = 0
    for line in lines:
        line = clip(_escape(line), SECTION_MAX_CHARS - 10)  # noqa: PLW2901
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= SECTION_MAX_CHARS:
            current = candidate
            shown += 1
            continue
        if len(sections) + 1 >= budget:
            break
        sections.append(current)
        current, shown = line, shown + 1
    if current and len(sections) < budget:
        sections.append(current)
    hidden = len(lines) - shown
    if hidden > 0:
        note = f"{MARK} {hidden} more line{'s' if hidden != 1 else ''} not shown"
        if sections and len(sections[-1]) + len(note) + 1 <= SECTION_MAX_CHARS:
            sections[-1] += f"\n{note}"
        else:
            sections[-1:] = [clip(sections[-1], SECTION_MAX_CHARS - len(note) - 1) + "\n" + note]
    return [_section(text) for text in sections]


def to_slack(notice: Notice, *, mention: str | None = None) -> dict[str, Any]:
    """A webhook payload: fallback text (with the mention, if any) and one coloured attachment."""
    title = f"{EMOJI[notice.severity]} {notice.title}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_MAX_CHARS),
                                    "emoji": True}}]
    if notice.text:
        if notice.source == "json":  # a code block, closed even when the JSON is clipped
            fence = "```"
            text = fence + clip(_escape(notice.text), SECTION_MAX_CHARS - 2 * len(fence)) + fence
        else:
            text = _escape(notice.text)
        blocks.append(_section(text))
    if notice.fields:
        fields = [{"type": "mrkdwn", "text": clip(f"*{_escape(name)}*\n{_escape(value) or '-'}",
                                                  FIELD_MAX_CHARS)}
                  for name, value in notice.fields[:MAX_FIELDS]]
        blocks.append({"type": "section", "fields": fields})
    tail: list[dict[str, Any]] = []
    if notice.link is not None:
        tail.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": notice.link.label},
            "url": notice.link.url}]})
    where = " · ".join(part for part in (
        f"Account {notice.account}" if notice.account else "",
        f"Region {notice.region}" if notice.region else "",
        notice.source) if part)
    tail.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                  "text": clip(_escape(where),
                                                               CONTEXT_MAX_CHARS)}]})
    if notice.lines:
        blocks.extend(_line_sections(notice.lines, MAX_BLOCKS - len(blocks) - len(tail)))
    fallback = clip(_escape(notice.title), HEADER_MAX_CHARS)  # mrkdwn: only our mention
    payload: dict[str, Any] = {
        "text": f"{mention} {fallback}" if mention else fallback,
        "attachments": [{"color": COLOR[notice.severity], "blocks": blocks + tail}],
    }
    return _fit(payload)


def _fit(payload: dict[str, Any]) -> dict[str, Any]:
    """Drop content sections from the end until the payload is small enough; say so."""
    blocks = payload["attachments"][0]["blocks"]
    dropped = 0
    while len(json.dumps(payload)) > PAYLOAD_MAX_CHARS:
        # the last section after the header and the first section: lines go first, then fields
        index = next((i for i in range(len(blocks) - 1, 1, -1)
                      if blocks[i]["type"] == "section"), None)
        if index is None:
            break
        blocks.pop(index)
        last_section = index
        dropped += 1
    if dropped:
        blocks.insert(last_section, _section(
            f"{MARK} {dropped} more section{'s' if dropped != 1 else ''} left out (size limit)"))
    return payload
