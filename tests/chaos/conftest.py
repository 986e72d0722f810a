"""The chaos suite: real pipelines against sandboxes with every fault on and kill -9 at random
points, a hostile server driving the real clients, and hostile files through the real CLI.

Every test here is slow (servers, subprocesses). `make test` runs CHAOS_SEEDS=3 seeds per
pipeline, `make chaos` 20; `CHAOS_SEEDS=N` picks another number, each seed repeatable.
"""

from __future__ import annotations

import os

DEFAULT_SEEDS = 3


def chaos_seeds() -> list[int]:
    """The seeds this session runs: 1..CHAOS_SEEDS."""
    return list(range(1, int(os.environ.get("CHAOS_SEEDS", DEFAULT_SEEDS)) + 1))
