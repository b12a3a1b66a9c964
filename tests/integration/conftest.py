"""Fixtures of the process-spawning tests in this directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _local_target import LocalTarget, free_hosts


@pytest.fixture
def target(tmp_path: Path) -> Iterator[LocalTarget]:
    """A private local target (own state dir, random free loopback hosts), always torn down."""
    t = LocalTarget(tmp_path / "state", free_hosts(3))
    try:
        yield t
    finally:
        t.cleanup()
