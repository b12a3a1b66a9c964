"""Issue 7's fault suite: each scenario under load with the WAN emulator on, then every invariant.

After each fault: every acknowledged job present and terminal, at most one accepted completion per task,
at most one leader per term, commit indexes never go back, replicas agree. Scenario-specific promises
(a partitioned minority cannot commit, an isolated leader steps down, ...) are asserted inside the
scenario (tests/faults/_scenarios.py).
"""

from __future__ import annotations

import json
import time

import pytest
from _rig import Rig
from _scenarios import SCENARIOS

pytestmark = pytest.mark.integration


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_fault_scenario(rig: Rig, name: str) -> None:
    since = time.monotonic()
    rig.acked.clear()
    figures = await SCENARIOS[name](rig)
    inv = await rig.check(since)
    print(json.dumps({"scenario": name, **figures, **inv.as_dict()}))
    assert inv.acknowledged > 0
    assert inv.violations == 0, inv.as_dict()


def test_wan_on_during_suite(rig: Rig) -> None:
    """The suite really ran through the emulator: Raft bytes crossed every cross-cloud link pair."""
    state = rig.cluster.wan.control.state()  # type: ignore[union-attr]
    raft = {(k["src"], k["dst"]) for k in state["links"] if k["service"] == "raft" and k["bytes"] > 0}
    assert len(raft) >= 3, raft
    assert state["rtt_ms"]["aws-gcp"] == 30
