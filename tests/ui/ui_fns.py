"""Functions the UI's test workspace runs on Ray workers (shipped by value)."""

from __future__ import annotations

import time

from eo_ray.hpo import Double, Integer, SearchSpace

SPACE = SearchSpace(x=Double(0.0, 1.0), k=Integer(1, 4))


def curve(hparams, reporter):
    """Five reports rising to ``x`` (the median rule stops the poor ones)."""
    for step in range(1, 6):
        time.sleep(0.02)
        reporter.report(hparams["x"] * step / 5, step=step)
    return {"accuracy": hparams["x"]}
