"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from control_plane.localcluster import LocalCluster, free_hosts

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator:
    """Factory for real local control-plane groups; every process is killed at teardown."""
    clusters: list[LocalCluster] = []

    def make(n: int = 3, start: bool = True, hosts: list[str] | None = None, **env: str) -> LocalCluster:
        hosts = list(hosts) if hosts else free_hosts(n)
        cluster = LocalCluster(tmp_path / f"cluster{len(clusters)}", hosts=hosts, extra_env=env)
        clusters.append(cluster)
        return cluster.start() if start else cluster

    try:
        yield make
    finally:
        for cluster in clusters:
            cluster.close()
