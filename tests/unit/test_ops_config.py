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
