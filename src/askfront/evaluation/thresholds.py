"""Thresholds on evaluation metrics: `askfront eval --fail-under METRIC=VALUE`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from askfront.core.errors import ConfigError
from askfront.evaluation.metrics import COLLECTION_METRICS, JUDGE_METRICS, METRICS, metric_info

_THRESHOLD = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(>=|<=|=)\s*([-+]?\d+(?:\.\d*)?|[-+]?\.\d+)\s*$")


def check_thresholds(metrics: Mapping[str, float | None], specs: Sequence[str]) -> list[str]:
    """Check "METRIC=VALUE" thresholds; returns one message per failed threshold.

    "=" means at least VALUE for higher-is-better metrics and at most VALUE for
    false_refusal_rate and latency_*; ">=" and "<=" state the direction explicitly.
    A metric that is undefined for this test set fails its threshold.

    Raises:
        ConfigError: for a malformed spec or an unknown metric name (listing the valid ones).
    """
    valid = [*METRICS, *JUDGE_METRICS, *COLLECTION_METRICS]
    valid += [n for n in metrics if n.startswith("latency_")]
    failures: list[str] = []
    for spec in specs:
        m = _THRESHOLD.match(spec)
        if not m:
            raise ConfigError(
                f"Threshold {spec!r} is not METRIC=VALUE (e.g. accuracy=0.9, "
                "latency_total_p95_ms<=2000)."
            )
        name, op, raw = m.group(1), m.group(2), m.group(3)
        if name not in valid:
            raise ConfigError(f"Unknown metric {name!r} in {spec!r}. Valid: {', '.join(valid)}.")
        limit = float(raw)
        at_least = op == ">=" or (op == "=" and metric_info(name).higher_is_better)
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} is undefined for this test set, so {spec!r} cannot hold")
        elif at_least and value < limit:
            failures.append(f"{name} = {value:.4g} is below the required {limit:g}")
        elif not at_least and value > limit:
            failures.append(f"{name} = {value:.4g} is above the allowed {limit:g}")
    return failures
