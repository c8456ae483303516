"""The committed sample payloads are what make_samples.py builds from their readable sources."""

from __future__ import annotations

import json

from tests.log_shipper import make_samples


def test_every_committed_sample_is_current() -> None:
    stale = [path.name for path, text in make_samples.rendered().items()
             if not path.is_file() or path.read_text() != text]
    assert stale == []


def test_every_source_makes_a_sample_that_decodes_back_to_it() -> None:
    from opskit.logs_payload import decode_logs_data

    for source in sorted(make_samples.SOURCES.glob("*.json")):
        sample = json.loads((make_samples.EVENTS / source.name).read_text())
        assert decode_logs_data(sample) == json.loads(source.read_text()), source.name
