"""The deployment state file survives restarts and yields DeploymentInfo."""

from __future__ import annotations

from pathlib import Path

from mcloud_tui.ops.state import DeploymentState, clear_state, load_state, save_state


def test_round_trip_and_info(tmp_path: Path) -> None:
    path = tmp_path / "local" / "deployment.json"
    assert load_state(path) is None
    node = {
        "cloud": "aws",
        "public_ip": "127.0.1.1",
        "private_ip": "127.0.1.1",
        "instance_type": "local-process",
        "spot": False,
        "gpu": False,
        "region": "loopback",
    }
    save_state(
        path, DeploymentState("local", "mcloud-local", {"aws": node}, provisioned_at=123.0, status="deployed")
    )
    st = load_state(path)
    assert st is not None and st.addresses() == {"aws": "127.0.1.1"} and st.status == "deployed"
    info = st.info()
    assert info.provisioned_at == 123.0 and info.hosts["aws"].instance_type == "local-process"
    clear_state(path)
    clear_state(path)
    assert load_state(path) is None


def test_unreadable_file_means_no_state(tmp_path: Path) -> None:
    p = tmp_path / "deployment.json"
    p.write_text("{not json")
    assert load_state(p) is None


def test_a_state_file_from_before_the_wan_fields_still_loads(tmp_path: Path) -> None:
    import json

    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({"target": "local", "deployment_name": "mcloud-local", "status": "deployed"}))
    st = load_state(path)
    assert st is not None and st.wan is False and st.wan_rtt_ms == {} and st.wan_control == ""
