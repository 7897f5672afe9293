"""Read a Vigie process's Prometheus page (what ``vigie status`` shows without a Prometheus server)."""

from __future__ import annotations

import urllib.request
from collections import defaultdict

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def scrape(port: int, timeout_s: float = 2.0) -> Samples | None:
    """Every sample of http://127.0.0.1:port/metrics (name -> {labels: value}); ``None`` if nothing answers."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:  # the metrics extra is not installed
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout_s) as response:
            text = response.read().decode()
    except OSError:
        return None
    samples: Samples = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return dict(samples)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s series whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for key, v in samples.get(name, {}).items() if wanted <= set(key))


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for key, value in samples.get(name, {}).items():
        for k, v in key:
            if k == label:
                found[v] = found.get(v, 0.0) + value
    return found
