"""Leader agreement and overall health, from fabricated samples (no processes)."""

from __future__ import annotations

from mcloud_tui.ops.events import HostHealth
from mcloud_tui.ops.health import ClusterHealth, probe

ADDR = {"aws": "127.0.1.1", "gcp": "127.0.2.1", "azure": "127.0.3.1"}
LEAD = "127.0.2.1:7000"


def sample(**over) -> ClusterHealth:
    hosts = {}
    for h in ADDR:
        base = dict(
            cp="up",
            worker="up",
            storage="up" if h == "aws" else "absent",
            role="leader" if h == "gcp" else "follower",
            leader=LEAD,
            term=2,
        )
        base.update(over.get(h, {}))
        hosts[h] = HostHealth(h, **base)
    return ClusterHealth(hosts, {}, {})


def test_one_agreed_leader_is_healthy() -> None:
    s = sample()
    assert s.agreed_leader == LEAD and s.leader_host(ADDR) == "gcp" and s.all_healthy


def test_disagreement_two_leaders_or_a_down_node_mean_no_agreed_leader() -> None:
    assert sample(azure={"leader": "127.0.3.1:7000"}).agreed_leader == ""
    assert sample(aws={"role": "leader"}).agreed_leader == ""
    assert sample(azure={"cp": "down", "role": "", "leader": ""}).agreed_leader == ""


def test_dead_worker_or_storage_is_unhealthy() -> None:
    assert not sample(gcp={"worker": "down"}).all_healthy
    assert not sample(aws={"storage": "down"}).all_healthy
    assert "worker=down" in sample(gcp={"worker": "down"}).summary()


def test_probe_of_nothing_listening_is_all_down() -> None:
    s = probe({"aws": "127.0.251.1", "gcp": "127.0.252.1", "azure": "127.0.253.1"}, timeout=0.5)
    assert {h.cp for h in s.hosts.values()} == {"down"} and s.hosts["aws"].storage == "down"
    assert s.hosts["gcp"].storage == "absent" and not s.all_healthy
