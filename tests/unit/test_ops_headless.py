"""The headless front end: exit codes and one clear line for bad usage (no processes spawned)."""

from __future__ import annotations

import pytest

from mcloud_tui.__main__ import main


def _deployed(tmp_path, *, wan: bool) -> None:
    """A recorded local deployment (state file only, nothing running)."""
    from mcloud_tui.ops.state import DeploymentState, save_state

    hosts = {"aws": "127.0.1.1", "gcp": "127.0.2.1", "azure": "127.0.3.1"}
    st = DeploymentState("local", "mcloud-local", {c: {"public_ip": ip} for c, ip in hosts.items()})
    st.status, st.wan = "deployed", wan
    st.wan_control = "127.0.1.1:8085" if wan else ""
    save_state(tmp_path / "local" / "deployment.json", st)


@pytest.fixture
def state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MCLOUD_STATE_DIR", str(tmp_path))
    for var in ("MCLOUD_LOCAL_HOSTS", "MCLOUD_WAN", "MCLOUD_WAN_RTT", "MCLOUD_DEPLOYMENT"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_partition_needs_a_cloud(state_dir, capsys) -> None:
    assert main(["--headless", "partition"]) == 2
    assert capsys.readouterr().err.strip() == "mcloud-tui: partition needs --cloud aws|gcp|azure"


def test_partition_with_nothing_deployed_says_so(state_dir, capsys) -> None:
    assert main(["--headless", "partition", "--cloud", "gcp"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "mcloud-tui: partition: nothing deployed on the local target: run up first"


def test_partition_with_wan_off_is_one_clear_error(state_dir, capsys) -> None:
    _deployed(state_dir, wan=False)
    assert main(["--headless", "partition", "--cloud", "gcp"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "WAN emulator is off for this deployment" in err and "MCLOUD_WAN=off" in err


def test_heal_with_a_dead_emulator_points_at_its_log(state_dir, capsys) -> None:
    _deployed(state_dir, wan=True)
    assert main(["--headless", "heal"]) == 2
    err = capsys.readouterr().err
    assert "WAN emulator of this deployment is not running" in err and "wan.log" in err


def test_partition_on_the_cloud_target_is_refused(state_dir, capsys) -> None:
    assert main(["--headless", "partition", "--cloud", "gcp", "--target", "cloud"]) == 2
    assert "only the local target" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("var", "value"),
    [("MCLOUD_WAN", "maybe"), ("MCLOUD_WAN_RTT", "aws-mars=3"), ("MCLOUD_WAN_RTT", "aws-gcp=x")],
)
def test_bad_wan_setting_is_one_line_naming_the_variable(state_dir, monkeypatch, capsys, var, value) -> None:
    monkeypatch.setenv(var, value)
    assert main(["--headless", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mcloud-tui: {var}") and len(err.strip().splitlines()) == 1, err


def test_bad_local_hosts_is_one_line_naming_the_variable(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("MCLOUD_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MCLOUD_LOCAL_HOSTS", "10.0.0.1,127.0.0.2,127.0.0.3")
    assert main(["--headless", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcloud-tui: MCLOUD_LOCAL_HOSTS") and "Traceback" not in err


def test_status_and_smoke_with_nothing_deployed(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("MCLOUD_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("MCLOUD_LOCAL_HOSTS", raising=False)
    assert main(["--headless", "status"]) == 0
    assert "nothing deployed on the local target" in capsys.readouterr().out
    assert main(["--headless", "smoke"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: nothing deployed" in out and "hint: run up first" in out


def test_unknown_command_is_rejected() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--headless", "explode"])
    assert exc.value.code == 2
