"""Fixtures shared by every test directory."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from control_plane.localcluster import LocalCluster

REPO = Path(__file__).resolve().parent.parent


def _free(host: str, ports: tuple[int, ...]) -> bool:
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def free_hosts(count: int = 3, ports: tuple[int, ...] = (7000, 50051, 8080, 8081, 9000)) -> list[str]:
    """`count` loopback addresses 127.<b>.<c>.1 whose service ports are free.

    Tests never use 127.0.{1,2,3}.1: a developer's local deployment may be running there.
    """
    rng = random.Random()
    for _ in range(200):
        b = rng.randint(10, 250)
        hosts = [f"127.{b}.{c}.1" for c in rng.sample(range(1, 250), count)]
        if all(_free(h, ports) for h in hosts):
            return hosts
    raise RuntimeError("no free loopback addresses found")


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
