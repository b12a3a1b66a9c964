"""Issue 4 end to end: `mcloud-tui --headless up|smoke|status|down --target local` through real Terraform
and Ansible, on private loopback addresses and a private state dir (never a developer's deployment)."""

from __future__ import annotations

import re

import pytest
from _local_target import LocalTarget

pytestmark = pytest.mark.integration
CLOUDS = ("aws", "gcp", "azure")


def test_up_smoke_status_down(target: LocalTarget) -> None:
    up = target.headless("up")
    assert up.rc == 0, up.out
    assert up.seconds < 60, f"up took {up.seconds:.1f}s"
    # a real terraform apply and a real ansible-playbook, streamed per host
    assert "Apply complete! Resources: 3 added" in up.out
    for cloud in CLOUDS:
        assert any("terraform" in ln for ln in up.lines(f"[{cloud}]")), cloud
        assert any("ansible: changed: Start the services" in ln for ln in up.lines(f"[{cloud}]")), cloud
        assert any(re.search(r"health: cp=up worker=up", ln) for ln in up.lines(f"[{cloud}]")), cloud
    assert re.search(r"\[aws\]\s+health: cp=up worker=up storage=up", up.out)
    assert "healthy:" in up.out and "<== verify ok" in up.out
    pids = target.pids()
    assert sorted(pids) == sorted(
        [
            "aws/controlplane",
            "aws/worker",
            "aws/storage",
            "gcp/controlplane",
            "gcp/worker",
            "azure/controlplane",
            "azure/worker",
            "wan/wan",  # the WAN emulator, on by default for the local target
        ]
    )

    # up twice: nothing changes, nothing starts twice
    again = target.headless("up")
    assert again.rc == 0, again.out
    assert "deploy: 0 task(s) changed" in again.out and "Resources: 0 added, 0 changed" in again.out
    assert target.pids() == pids

    smoke = target.headless("smoke")
    assert smoke.rc == 0, smoke.out
    steps = [ln for ln in smoke.out.splitlines() if " smoke " in ln]
    for step in ("cp-health", "storage", "matmul", "artifact"):
        for cloud in CLOUDS:
            assert any(ln.startswith(f"[{cloud}]") and f"smoke {step}: PASS" in ln for ln in steps), (
                step,
                cloud,
            )
    assert any("smoke leader: PASS" in ln for ln in steps)
    assert not any("FAIL" in ln for ln in steps)

    status = target.headless("status")
    assert status.rc == 0 and "deployment mcloud-local target=local" in status.out

    down = target.headless("down")
    assert down.rc == 0, down.out
    assert "terraform state is empty" in down.out
    assert target.leftover_processes() == []
    assert target.listening() == []
    assert target.terraform_state() == []
    assert not (target.state_dir / "local" / "deployment.json").exists()

    twice = target.headless("down")
    assert twice.rc == 0 and "nothing to tear down" in twice.out
    status = target.headless("status")
    assert status.rc == 0 and "nothing deployed" in status.out
