"""The reports of one dispatched run (one per target) shown as one Slack message per batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opskit.notify import SCHEMA as REPORT_SCHEMA
from slack_notifier.renderers import Incoming

_RANK = {"info": 0, "ok": 0, "warning": 1, "critical": 2}


def dispatch_key(incoming: Incoming) -> tuple[str, str] | None:
    """(automation, dispatching run id) for a target's report of a dispatched run, else None."""
    payload = incoming.payload
    if not isinstance(payload, dict) or payload.get("schema") != REPORT_SCHEMA:
        return None
    run = payload.get("dispatch")
    automation = payload.get("automation")
    if (not isinstance(run, dict) or not isinstance(run.get("run_id"), str) or not run["run_id"]
            or not isinstance(automation, str)):
        return None
    return automation, run["run_id"]


def _count(value: Any) -> int:
    """A report's count, or 0 when it is not a whole number (a malformed report)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _counts(payload: dict[str, Any]) -> dict[str, Any]:
    counts = payload.get("counts")
    return counts if isinstance(counts, dict) else {}


def merge(reports: Sequence[Incoming]) -> Incoming:
    """One report standing for several targets: the worst severity, summed counts, one line a
    target (its account and region, title and counts)."""
    payloads: list[dict[str, Any]] = [r.payload for r in reports]
    first = payloads[0]
    counts = {k: sum(_count(_counts(p).get(k)) for p in payloads)
              for k in ("done", "planned", "skipped", "failed")}
    severity = max((str(p.get("severity", "info")) for p in payloads),
                   key=lambda s: _RANK.get(s, 1))
    total = _count(first["dispatch"].get("targets")) or len(payloads)
    lines: list[dict[str, Any]] = []
    for p in sorted(payloads, key=lambda p: (str(p.get("account")), str(p.get("region")))):
        failed = bool(_count(_counts(p).get("failed")) or p.get("error"))
        lines.append({"resource": f"{p.get('account')}/{p.get('region')}",
                      "resource_type": "target", "action": "run",
                      "status": "failed" if failed else "done",
                      "reason": str(p.get("title", "")), "details": {}})
    shown = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "nothing to do"
    merged = {**first, "severity": severity, "counts": counts, "actions": lines,
              "account": "", "region": "", "error": None,
              "title": f"{first.get('automation')}: {len(payloads)} of {total} targets "
                       f"reported ({shown})"}
    return Incoming(payload=merged, region=reports[0].region)
