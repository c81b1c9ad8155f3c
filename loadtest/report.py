"""Figures of a run: requests, errors, latency percentiles, by step."""

from __future__ import annotations

from collections import Counter, defaultdict

from .browser import Sample


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(samples: list[Sample], seconds: float) -> dict:
    answered = [s.ms for s in samples if s.status]
    return {
        "requests": len(samples),
        "per_second": len(samples) / seconds if seconds else 0,
        "errors": sum(1 for s in samples if s.error),
        "p50": percentile(answered, 0.50),
        "p95": percentile(answered, 0.95),
        "p99": percentile(answered, 0.99),
        "max": max(answered, default=0),
    }


def table(samples: list[Sample]) -> str:
    by_label = defaultdict(list)
    for s in samples:
        by_label[s.label].append(s)
    lines = [f"    {'step':<38} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}"]
    for label, rows in sorted(by_label.items(), key=lambda item: -len(item[1])):
        ms = [s.ms for s in rows if s.status]
        errors = sum(1 for s in rows if s.error)
        lines.append(
            f"    {label:<38} {len(rows):>8} {errors:>6} {percentile(ms, 0.5):>7.0f} "
            f"{percentile(ms, 0.95):>7.0f} {max(ms, default=0):>7.0f}"
        )
    return "\n".join(lines)


def error_kinds(samples: list[Sample]) -> Counter:
    return Counter(s.error for s in samples if s.error)


def error_pages(samples: list[Sample]) -> Counter:
    return Counter(s.error_page for s in samples if s.error_page)


def done_at(sample: Sample) -> float:
    return sample.at + sample.ms / 1000


def window(samples: list[Sample], start: float, seconds: float) -> list[Sample]:
    """The requests answered (or failed) in [start, start + seconds)."""
    return [s for s in samples if start <= done_at(s) < start + seconds]
