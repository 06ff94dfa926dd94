"""Shared test configuration: the hypothesis profiles.

Choose one with the environment variable ``HYPOTHESIS_PROFILE`` (default ``dev``):

- ``dev``: 20 examples per property, for quick local runs;
- ``ci``: 30 examples, derandomized (the same examples every run, so CI never flakes on a
  newly found case; run ``thorough`` to search further); the README's test command;
- ``thorough``: 400 examples, for an on-demand deep search.

Deadlines are off everywhere: numerical code on a shared machine has no reliable per-example
timing, and a slow example is not a wrong one.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    # drawing arrays from an op's domain is deliberately thorough; that is not a problem
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

settings.register_profile("dev", max_examples=20, **_COMMON)
settings.register_profile("ci", max_examples=30, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
