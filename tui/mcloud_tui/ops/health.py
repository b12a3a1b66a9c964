"""Health of a deployment: one probe of every service of every host (httpx), the agreed Raft leader, and
a poller thread that emits HostHealth / LeaderChanged events for the console.

A service that does not answer within ``timeout`` is "down"; probes of the three hosts run in parallel so
one dead VM does not slow the others' rows.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from .config import CP_HEALTH_PORT, STORAGE_HOST, STORAGE_PORT, WORKER_HEALTH_PORT
from .events import EventSink, HostHealth, LeaderChanged


@dataclass(frozen=True)
class ClusterHealth:
    """One sample of the whole deployment."""

    hosts: dict[str, HostHealth]
    cp_json: dict[str, dict]
    worker_json: dict[str, dict]

    @property
    def leaders(self) -> set[str]:
        """The leader addresses the reachable control-plane nodes believe in ("" = none)."""
        return {h.leader for h in self.hosts.values() if h.cp == "up"}

    @property
    def agreed_leader(self) -> str:
        """The leader all three nodes agree on, exactly one node saying it is leader; else ""."""
        ups = [h for h in self.hosts.values() if h.cp == "up"]
        if len(ups) != len(self.hosts) or not ups:
            return ""
        leaders = {h.leader for h in ups}
        if len(leaders) != 1 or "" in leaders:
            return ""
        if sum(1 for h in ups if h.role == "leader") != 1:
            return ""
        return leaders.pop()

    def leader_host(self, addresses: Mapping[str, str]) -> str | None:
        """Which host (cloud) the agreed leader runs on."""
        lead = self.agreed_leader
        ip = lead.rsplit(":", 1)[0] if lead else ""
        return next((h for h, a in addresses.items() if a == ip), None)

    @property
    def all_healthy(self) -> bool:
        """3 control-plane nodes, 3 workers and storage up, and one agreed leader."""
        return (
            all(h.cp == "up" and h.worker == "up" for h in self.hosts.values())
            and all(h.storage == "up" for k, h in self.hosts.items() if k == STORAGE_HOST)
            and bool(self.agreed_leader)
        )

    def summary(self) -> str:
        parts = [
            f"{k}: cp={h.cp} worker={h.worker}" + (f" storage={h.storage}" if k == STORAGE_HOST else "")
            for k, h in self.hosts.items()
        ]
        return "; ".join(parts) + f"; leader={self.agreed_leader or 'none'}"


def _get_json(client: httpx.Client, url: str) -> dict | None:
    try:
        r = client.get(url)
        if r.status_code != 200:
            return None
        data = r.json()
        return data if isinstance(data, dict) else None
    except (httpx.HTTPError, ValueError):
        return None


def _storage_up(client: httpx.Client, ip: str) -> bool:
    """Any HTTP answer from the S3 port (MinIO's live probe answers 200; moto answers its own way)."""
    try:
        r = client.get(f"http://{ip}:{STORAGE_PORT}/minio/health/live")
        return r.status_code < 500
    except httpx.HTTPError:
        return False


def probe_host(host: str, ip: str, timeout: float = 1.5) -> tuple[HostHealth, dict | None, dict | None]:
    with httpx.Client(timeout=timeout) as client:
        cp = _get_json(client, f"http://{ip}:{CP_HEALTH_PORT}/health")
        wk = _get_json(client, f"http://{ip}:{WORKER_HEALTH_PORT}/health")
        st = ("up" if _storage_up(client, ip) else "down") if host == STORAGE_HOST else "absent"
    hh = HostHealth(
        host=host,  # type: ignore[arg-type]
        cp="up" if cp else "down",
        worker="up" if wk else "down",
        storage=st,  # type: ignore[arg-type]
        role=str((cp or {}).get("role", "")),
        term=int((cp or {}).get("term", 0) or 0),
        commit_index=int((cp or {}).get("commit_index", 0) or 0),
        leader=str((cp or {}).get("leader") or ""),
        has_quorum=bool((cp or {}).get("has_quorum", False)),
        worker_device=str((wk or {}).get("device", "")),
        worker_state=str((wk or {}).get("state", "")),
    )
    return hh, cp, wk


def probe(addresses: Mapping[str, str], timeout: float = 1.5) -> ClusterHealth:
    """Probe every host in parallel."""
    with ThreadPoolExecutor(max_workers=max(1, len(addresses))) as pool:
        futs = {h: pool.submit(probe_host, h, ip, timeout) for h, ip in addresses.items()}
        results = {h: f.result() for h, f in futs.items()}
    return ClusterHealth(
        hosts={h: r[0] for h, r in results.items()},
        cp_json={h: r[1] for h, r in results.items() if r[1]},
        worker_json={h: r[2] for h, r in results.items() if r[2]},
    )


class HealthPoller:
    """Polls every ``interval`` seconds on its own thread; emits HostHealth when a host's row changes
    (and every ``refresh`` seconds anyway) and LeaderChanged when the agreed leader changes."""

    def __init__(
        self, addresses: Mapping[str, str], sink: EventSink, interval: float = 1.0, refresh: float = 10.0
    ) -> None:
        self.addresses = dict(addresses)
        self.sink = sink
        self.interval = interval
        self.refresh = refresh
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: ClusterHealth | None = None

    def start(self) -> HealthPoller:
        self._thread = threading.Thread(target=self.run, name="mcloud-health", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def run(self) -> None:
        import time

        last_rows: dict[str, tuple] = {}
        last_sent: dict[str, float] = {}
        leader: str | None = None
        while not self._stop.is_set():
            sample = probe(self.addresses)
            self.last = sample
            now = time.monotonic()
            for host, hh in sample.hosts.items():
                key = (hh.cp, hh.worker, hh.storage, hh.role, hh.term, hh.commit_index, hh.leader)
                if last_rows.get(host) != key or now - last_sent.get(host, 0) > self.refresh:
                    last_rows[host] = key
                    last_sent[host] = now
                    self.sink(hh)
            agreed = sample.agreed_leader
            if agreed != leader:
                leader = agreed
                term = max((h.term for h in sample.hosts.values()), default=0)
                self.sink(LeaderChanged(sample.leader_host(self.addresses), agreed, term))  # type: ignore[arg-type]
            self._stop.wait(self.interval)
