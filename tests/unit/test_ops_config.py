"""Target configuration: env parsing with clear errors, and paths that stay under the state dir."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mcloud_tui.ops.config import DEFAULT_LOCAL_HOSTS, ConfigError, TargetConfig, parse_local_hosts

REPO = Path(__file__).resolve().parents[2]


def test_local_hosts_default_and_both_formats() -> None:
    assert parse_local_hosts(None) == DEFAULT_LOCAL_HOSTS
    want = {"aws": "127.0.71.1", "gcp": "127.0.72.1", "azure": "127.0.73.1"}
    assert parse_local_hosts("127.0.71.1,127.0.72.1,127.0.73.1") == want
    assert parse_local_hosts("gcp=127.0.72.1, azure=127.0.73.1,aws=127.0.71.1") == want


@pytest.mark.parametrize(
    "value",
    [
        "127.0.0.1,127.0.0.2",
        "10.0.0.1,127.0.0.2,127.0.0.3",
        "127.0.0.1,127.0.0.1,127.0.0.2",
        "aws=127.0.0.1,x=1,y=2",
        "nonsense,127.0.0.2,127.0.0.3",
    ],
)
def test_bad_local_hosts_name_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="MCLOUD_LOCAL_HOSTS"):
        parse_local_hosts(value)


def test_bad_deployment_name_and_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCLOUD_DEPLOYMENT", "Bad Name")
    with pytest.raises(ConfigError, match="MCLOUD_DEPLOYMENT"):
        TargetConfig.from_env("local")
    monkeypatch.delenv("MCLOUD_DEPLOYMENT")
    with pytest.raises(ConfigError, match="--target"):
        TargetConfig.from_env("moon")


def test_everything_of_the_local_target_lives_under_the_state_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MCLOUD_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MCLOUD_LOCAL_HOSTS", "127.0.71.1,127.0.72.1,127.0.73.1")
    cfg = TargetConfig.from_env("local")
    for p in (
        cfg.tf_data_dir,
        cfg.tf_state_path,
        cfg.inventory_path,
        cfg.runner_dir,
        cfg.deployment_file,
        cfg.host_dir("aws"),
        cfg.secrets_dir(),
    ):
        assert p is not None and tmp_path in p.parents
    assert cfg.tf_dir == REPO / "terraform" / "local"
    assert 'host_addresses={aws="127.0.71.1",gcp="127.0.72.1",azure="127.0.73.1"}' in cfg.tf_vars()


def test_host_dir_matches_the_roles_pipeline_home(monkeypatch, tmp_path: Path) -> None:
    """The teardown sweep looks where the role starts the processes."""
    text = (REPO / "ansible/roles/pipeline-node/defaults/main.yml").read_text()
    m = re.search(r"else mcloud_state_dir ~ '([^']+)' ~ deployment_name ~ '/' ~ inventory_hostname", text)
    assert m, "pipeline_home's process branch changed shape: update TargetConfig.deployment_root"
    monkeypatch.setenv("MCLOUD_STATE_DIR", str(tmp_path))
    cfg = TargetConfig.from_env("local")
    assert cfg.host_dir("gcp", "dep") == Path(f"{tmp_path}{m.group(1)}dep/gcp")


def test_wan_is_on_by_default_for_the_local_target_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MCLOUD_WAN", "MCLOUD_WAN_RTT", "MCLOUD_LOCAL_HOSTS", "MCLOUD_DEPLOYMENT"):
        monkeypatch.delenv(var, raising=False)
    local = TargetConfig.from_env("local").wan
    assert local.enabled and local.rtt_ms == {"aws-gcp": 30.0, "aws-azure": 10.0, "gcp-azure": 35.0}
    assert local.rtt_spec == "aws-gcp=30,aws-azure=10,gcp-azure=35"
    assert not TargetConfig.from_env("cloud").wan.enabled
    monkeypatch.setenv("MCLOUD_WAN_RTT", "aws-gcp=70, gcp-azure=60")  # pairs not named keep the default
    assert TargetConfig.from_env("local").wan.rtt_ms == {
        "aws-gcp": 70.0,
        "aws-azure": 10.0,
        "gcp-azure": 60.0,
    }
    for off in ("off", "0", "false", "OFF"):
        monkeypatch.setenv("MCLOUD_WAN", off)
        assert not TargetConfig.from_env("local").wan.enabled


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [("MCLOUD_WAN", "sometimes", "sometimes"), ("MCLOUD_WAN_RTT", "aws-gcp=-5", "aws-gcp")],
)
def test_bad_wan_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, var, value, named) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=rf"^{var}.*{named}"):
        TargetConfig.from_env("local")


def test_wan_ports_cover_every_link_and_the_control_endpoint() -> None:
    from mcloud_tui.ops import localwan

    ports = localwan.ports(DEFAULT_LOCAL_HOSTS)
    assert ("127.0.2.11", 7000) in ports and ("127.0.1.13", 9000) in ports and ("127.0.1.1", 8085) in ports
    assert len(ports) == 6 * 2 + 2 + 1
    with pytest.raises(ConfigError, match="MCLOUD_LOCAL_HOSTS.*first three octets"):
        localwan.ports({"aws": "127.0.0.1", "gcp": "127.0.0.2", "azure": "127.0.3.1"})
