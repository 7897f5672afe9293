"""``bench/results/latest.json`` merges every benchmark's figures and never reads quieter than a run was."""

from __future__ import annotations

import json

import pytest

from bench import results

pytestmark = pytest.mark.unit


def test_figures_merge_and_the_top_level_load_is_the_busiest_start(tmp_path) -> None:
    path = tmp_path / "latest.json"
    results.record("stream", {"stream_answers_per_s": 7000}, {"cores": 2, "load_avg_at_start": [3.5, 2.0, 1.0]}, path)
    results.record("sink", {"sink_rows_per_s": 30000}, {"cores": 2, "load_avg_at_start": [0.8, 1.0, 1.1]}, path)
    saved = json.loads(path.read_text())
    assert saved["stream_answers_per_s"] == 7000 and saved["sink_rows_per_s"] == 30000
    assert saved["runs"]["sink"]["load_avg_at_start"] == [0.8, 1.0, 1.1]
    assert saved["load_avg_at_start"] == [3.5, 2.0, 1.0] and saved["load_avg_at_start_of"] == "stream"
    results.record("stream", {"stream_answers_per_s": 7100}, {"cores": 2, "load_avg_at_start": [0.5, 0.5, 0.5]}, path)
    saved = json.loads(path.read_text())
    assert saved["load_avg_at_start"] == [0.8, 1.0, 1.1] and saved["load_avg_at_start_of"] == "sink"
