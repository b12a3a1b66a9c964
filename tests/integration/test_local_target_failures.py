"""Issue 4, failures: clear and recoverable (terraform missing, a port taken, a service dying at start,
an interrupted up that down cleans completely)."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
from _local_target import LocalTarget

pytestmark = pytest.mark.integration


def assert_clean(t: LocalTarget) -> None:
    assert t.leftover_processes() == []
    assert t.listening() == []
    assert t.terraform_state() == []


def test_terraform_missing_is_one_clear_error(target: LocalTarget, tmp_path: Path) -> None:
    run = target.headless("up", PATH=str(tmp_path), MCLOUD_TERRAFORM="")
    assert run.rc == 1
    assert "ERROR: terraform not found on PATH" in run.out and "hint: install Terraform" in run.out
    assert "Traceback" not in run.out
    assert not (target.state_dir / "local" / "deployment.json").exists()


def test_port_taken_names_the_port_its_owner_and_host(target: LocalTarget) -> None:
    gcp = target.hosts[1]
    with socket.socket() as s:
        s.bind((gcp, 8081))
        s.listen()
        run = target.headless("up")
    assert run.rc == 1
    assert f"[gcp]    ERROR: port {gcp}:8081 is already in use by pid" in run.out, run.out
    assert "==> provision" not in run.out  # stopped before anything was created
    assert_clean(target)


def test_service_dying_at_start_shows_its_log_tail_and_down_recovers(target: LocalTarget) -> None:
    # The control plane's DATA_DIR exists as a file: mcloud-cp dies at start on gcp only.
    data = target.state_dir / "nodes" / "mcloud-local" / "gcp" / "data"
    data.mkdir(parents=True)
    (data / "controlplane").write_text("not a directory")
    run = target.headless("up")
    assert run.rc == 1
    gcp = run.lines("[gcp]")
    assert any("controlplane exited during start; last lines of its log" in ln for ln in gcp), run.out
    assert any("procctl start controlplane" in ln for ln in gcp)  # the tail itself, under its host
    assert "ERROR: deploy failed on gcp" in run.out
    down = target.headless("down")
    assert down.rc == 0, down.out
    assert_clean(target)


def test_interrupted_up_is_cleaned_by_down(target: LocalTarget) -> None:
    proc = target.popen("up")
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            seen.append(line)
            if "changed: Start the services" in line:  # services are being started right now
                proc.send_signal(signal.SIGINT)
                break
            assert time.monotonic() < deadline, "".join(seen)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen.append(rest)
    out = "".join(seen)
    assert proc.returncode == 130, out
    assert "cancel" in out and "run `mcloud-tui --headless down --target local`" in out
    down = target.headless("down")
    assert down.rc == 0, down.out
    assert_clean(target)
    assert not (target.state_dir / "local" / "deployment.json").exists()
