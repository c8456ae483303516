"""Readable console output for reports and run summaries."""

from __future__ import annotations

from typing import Any

_MARK = {"done": "+", "planned": "~", "skipped": "-", "failed": "!"}


def print_heading(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


def print_report(report: dict[str, Any]) -> None:
    counts = ", ".join(f"{n} {k}" for k, n in report["counts"].items() if n)
    mode = "dry-run" if report["dry_run"] else "live"
    print(f"  [{report['severity']}] {report['title']}  ({mode}; {counts or 'nothing'})")
    for action in report["actions"]:
        note = action["details"].get("note")
        suffix = f"  [{note}]" if note else ""
        print(f"    {_MARK[action['status']]} {action['status']:<7} {action['action']:<10} "
              f"{action['resource_type']:<16} {action['resource']}: {action['reason']}{suffix}")
    if report.get("error"):
        print(f"    ! {report['error']}")
    if report["truncated"]:
        print("    ... (truncated)")
