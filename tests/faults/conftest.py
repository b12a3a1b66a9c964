"""One fault rig per module (starting it costs ~10 s on 2 cores); every test restores it to full strength."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _rig import Rig, free_wan_hosts


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    base: Path = tmp_path_factory.mktemp("faults")
    r = Rig(base, free_wan_hosts())
    try:
        r.start()
        yield r
    finally:
        r.close()
