"""Draw docs/images/teams_notifier.png: sample events rendered as Teams cards.

The samples go through the notifier's own code (sources -> renderers.render -> to_teams), and
the cards are drawn by a small HTML imitation of Teams, then screenshot with headless Chromium.
It is not a screenshot of Teams: Teams' own rendering differs in fonts, colours and spacing.

    PYTHONPATH=functions:shared_layer .venv/bin/python docs/images/teams_preview.py

Needs Chromium (`apt-get install -y chromium`, or CHROMIUM=/path/to/chrome).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from slack_notifier import sources
from slack_notifier.renderers import Incoming, render
from slack_notifier.teams_message import TeamsMention, to_teams

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "slack_notifier"
OUTPUT = Path(__file__).resolve().parent / "teams_notifier.png"
SAMPLES = ("sqs-alarm-metric.json", "eventbridge-guardduty-finding.json",
           "logs-subscription-errors.json", "sqs-opskit-report.json", "sqs-alarm-ok.json")
REGION = "eu-west-1"
MENTION = TeamsMention("On-call", "oncall@example.com")
WIDTH = 1000

# Teams' light theme, approximately.
STYLE_COLOURS = {"attention": "#fbe9eb", "warning": "#fff4ce", "good": "#e7f2da",
                 "accent": "#e8ebfa", "emphasis": "#f5f5f5"}
STYLE_BARS = {"attention": "#c4314b", "warning": "#c19c00", "good": "#237b4b",
              "accent": "#5b5fc7", "emphasis": "#d1d1d1"}
CSS = """
body { margin: 0; background: #f5f5f5; font: 14px/1.45 "Segoe UI", "DejaVu Sans", sans-serif;
       color: #242424; }
.page { padding: 16px 24px; }
.caveat { color: #616161; font-size: 12px; margin: 0 0 12px; }
.post { display: flex; gap: 10px; margin-bottom: 14px; }
.avatar { width: 32px; height: 32px; border-radius: 50%; background: #5b5fc7; color: #fff;
          font-weight: 600; display: flex; align-items: center; justify-content: center;
          flex: none; font-size: 12px; }
.meta { font-size: 12px; color: #616161; margin-bottom: 4px; }
.meta b { color: #242424; }
.card { background: #fff; border-radius: 4px; box-shadow: 0 1px 2px rgba(0,0,0,.15);
        overflow: hidden; width: 880px; }
.cbody { padding: 0 16px 12px; }
.container { margin: 0 -16px 8px; padding: 10px 16px; border-left: 4px solid transparent; }
.rich { margin: 6px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.sep { border-top: 1px solid #e0e0e0; padding-top: 6px; }
.none { margin-top: 0; }
.cols { display: flex; gap: 16px; }
.col { flex: 1 1 0; min-width: 0; }
.mention { color: #5b5fc7; font-weight: 600; }
.button { display: inline-block; border: 1px solid #d1d1d1; border-radius: 4px;
          padding: 4px 12px; margin: 8px 0 4px; font-weight: 600; }
.Large { font-size: 18px; } .Small { font-size: 12px; }
.Bolder { font-weight: 700; } .subtle { color: #616161; } .italic { font-style: italic; }
.Monospace { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; }
"""


def _run(run: dict[str, Any]) -> str:
    classes = [run.get("size", ""), run.get("weight", ""), run.get("fontType", ""),
               "subtle" if run.get("isSubtle") else "", "italic" if run.get("italic") else ""]
    return (f'<span class="{" ".join(c for c in classes if c)}">'
            f"{html.escape(run['text'])}</span>")


def _element(element: dict[str, Any], mentions: dict[str, str]) -> str:
    kind = element["type"]
    extra = (" sep" if element.get("separator") else "") + (
        " none" if element.get("spacing") == "None" else "")
    if kind == "RichTextBlock":
        return f'<div class="rich{extra}">{"".join(_run(r) for r in element["inlines"])}</div>'
    if kind == "TextBlock":  # only the mention uses one
        text = html.escape(element["text"])
        for tag, name in mentions.items():
            text = text.replace(html.escape(tag), f'<span class="mention">@{html.escape(name)}'
                                                  "</span>")
        return f'<div class="rich">{text}</div>'
    if kind == "Container":
        style = element.get("style")
        look = (f' style="background:{STYLE_COLOURS[style]};border-left-color:'
                f'{STYLE_BARS[style]}"' if style else ' style="margin:0;padding:0"')
        items = "".join(_element(item, mentions) for item in element["items"])
        return f'<div class="container"{look}>{items}</div>'
    if kind == "ColumnSet":
        columns = "".join('<div class="col">' + "".join(_element(item, mentions)
                                                        for item in column["items"]) + "</div>"
                          for column in element["columns"])
        return f'<div class="cols">{columns}</div>'
    if kind == "ActionSet":
        return "".join(f'<span class="button">{html.escape(action["title"])}</span> '
                       for action in element["actions"])
    return f"<div>(not drawn: {html.escape(kind)})</div>"


def card_html(payload: dict[str, Any]) -> str:
    card = payload["attachments"][0]["content"]
    mentions = {e["text"]: e["mentioned"]["name"]
                for e in card.get("msteams", {}).get("entities", [])}
    body = "".join(_element(element, mentions) for element in card["body"])
    return f'<div class="card"><div class="cbody">{body}</div></div>'


def payloads() -> list[dict[str, Any]]:
    result = []
    for name in SAMPLES:
        event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
        incoming: list[Incoming] = (
            [sources.from_sqs_body(record["body"], REGION) for record in event["Records"]]
            if sources.is_sqs_batch(event) else sources.from_direct_event(event, REGION))
        for item in incoming:
            notice = render(item)
            result.append(to_teams(notice, mention=MENTION
                                   if notice.severity == "critical" else None))
    return result


def page(cards: list[dict[str, Any]]) -> str:
    posts = "".join(
        '<div class="post"><div class="avatar">WF</div><div>'
        '<div class="meta"><b>Workflows</b> &nbsp;10:00</div>'
        f"{card_html(payload)}</div></div>" for payload in cards)
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}</style></head>"
            "<body><div class='page'><p class='caveat'>A simple HTML imitation of Microsoft "
            "Teams cards, drawn from the notifier's own payloads; not a screenshot of Teams."
            f"</p>{posts}</div></body></html>")


def screenshot(html_file: Path, png: Path, height: int) -> None:
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    if chromium is None:
        sys.exit("Chromium not found: apt-get install -y chromium, or set CHROMIUM")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
             f"--screenshot={png}", f"--window-size={WIDTH},{height}",
             html_file.as_uri()], check=True, capture_output=True, timeout=120)


def main() -> None:
    height = int(sys.argv[1]) if len(sys.argv) > 1 else 1900
    with tempfile.TemporaryDirectory() as folder:
        html_file = Path(folder) / "teams_preview.html"
        html_file.write_text(page(payloads()), encoding="utf-8")
        screenshot(html_file, OUTPUT, height)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
