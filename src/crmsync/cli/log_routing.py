"""Where crmsync's own log records go while a command runs: one handler on the package logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

PACKAGE_LOGGER = "crmsync"


@contextmanager
def routed_to(handler: logging.Handler) -> Iterator[None]:
    """Send the package's records of level INFO and up to `handler` while the block runs, and
    put the logger back as it was afterwards."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
