"""Who talks to whom through which link: the WAN emulator's address plan (pure, no I/O).

Every cloud's services listen on the cloud's own address (aws 127.0.1.1 ...). Cross-cloud traffic goes
through one TCP proxy per *directed* link and port, listening on an address that names the source cloud:
``link(src, dst)`` is dst's address with the last octet ``11 + index(src)``, e.g. aws→gcp is 127.0.2.11.
A process in cloud `src` reaches cloud `dst` only through ``link(src, dst)``:

- control plane: RAFT_ROUTES maps each peer's canonical address to the link (PySyncObj keeps calling the
  peer by its canonical RAFT_SELF, so identities and the reported leader stay the same on every node);
- workers: CP_ENDPOINTS lists the same-cloud node directly, the other two through their links;
- storage: MINIO_ENDPOINT of a worker outside the storage cloud is the link to the storage host.

Why not list link addresses in RAFT_PEERS: the acceptor of a PySyncObj connection recognises the initiator
only by the RAFT_SELF it sends, so the acceptor would have to list it canonically; the two sides of a pair
would then disagree about each other's names and `leader` in /health would differ per node.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

CLOUDS: tuple[str, ...] = ("aws", "gcp", "azure")
#: Round-trip times between the clouds in ms (issue 7: "roughly aws↔gcp 30, aws↔azure 10, gcp↔azure 35").
DEFAULT_RTT_MS: dict[frozenset[str], float] = {
    frozenset({"aws", "gcp"}): 30.0,
    frozenset({"aws", "azure"}): 10.0,
    frozenset({"gcp", "azure"}): 35.0,
}
DEFAULT_JITTER_MS = 1.0
LOCAL_HOSTS: dict[str, str] = {"aws": "127.0.1.1", "gcp": "127.0.2.1", "azure": "127.0.3.1"}


class WanConfigError(ValueError):
    """A bad matrix, host list or port: one line naming the bad thing."""


@dataclass(frozen=True)
class LatencyMatrix:
    """Symmetric round-trip times between clouds, plus jitter applied to each one-way delay."""

    rtt_ms: Mapping[frozenset[str], float] = field(default_factory=lambda: dict(DEFAULT_RTT_MS))
    jitter_ms: float = DEFAULT_JITTER_MS

    def rtt(self, a: str, b: str) -> float:
        """Round-trip time between two clouds in ms (0 within a cloud)."""
        if a == b:
            return 0.0
        return float(self.rtt_ms.get(frozenset({a, b}), 0.0))

    def one_way(self, a: str, b: str) -> float:
        return self.rtt(a, b) / 2.0

    def as_dict(self) -> dict[str, float]:
        """`{"aws-gcp": 30.0, ...}` in CLOUDS order (JSON-friendly)."""
        out: dict[str, float] = {}
        for i, a in enumerate(CLOUDS):
            for b in CLOUDS[i + 1 :]:
                out[f"{a}-{b}"] = self.rtt(a, b)
        return out

    def with_rtt(self, updates: Mapping[str, float]) -> LatencyMatrix:
        merged = dict(self.rtt_ms)
        for key, value in parse_matrix_items(updates).items():
            merged[key] = value
        return LatencyMatrix(merged, self.jitter_ms)


def parse_matrix_items(items: Mapping[str, float]) -> dict[frozenset[str], float]:
    """Validate `{"aws-gcp": 30, ...}` (RTT ms) into pair keys."""
    out: dict[frozenset[str], float] = {}
    for key, value in items.items():
        a, sep, b = str(key).partition("-")
        if not sep or a not in CLOUDS or b not in CLOUDS or a == b:
            raise WanConfigError(f"WAN matrix: {key!r} is not a pair of clouds like 'aws-gcp'")
        try:
            rtt = float(value)
        except (TypeError, ValueError):
            raise WanConfigError(f"WAN matrix: {key}: expected a number of ms, got {value!r}") from None
        if not 0 <= rtt <= 10_000:
            raise WanConfigError(f"WAN matrix: {key}: RTT must be 0-10000 ms, got {value!r}")
        out[frozenset({a, b})] = rtt
    return out


def parse_matrix(spec: str, jitter_ms: float = DEFAULT_JITTER_MS) -> LatencyMatrix:
    """`"aws-gcp=30,aws-azure=10,gcp-azure=35"` (RTT ms; missing pairs keep their defaults)."""
    items: dict[str, float] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise WanConfigError(f"WAN matrix: expected pair=ms such as aws-gcp=30, got {part!r}")
        try:
            items[key.strip()] = float(value)
        except ValueError:
            raise WanConfigError(
                f"WAN matrix: {key.strip()}: expected a number of ms, got {value!r}"
            ) from None
    if not 0 <= jitter_ms <= 1000:
        raise WanConfigError(f"WAN jitter: must be 0-1000 ms, got {jitter_ms!r}")
    merged = dict(DEFAULT_RTT_MS)
    merged.update(parse_matrix_items(items))
    return LatencyMatrix(merged, jitter_ms)


def link_host(dst_host: str, src_index: int) -> str:
    """The address of the link from cloud number `src_index` to the cloud at `dst_host`."""
    try:
        ip = ipaddress.IPv4Address(dst_host)
    except ValueError:
        raise WanConfigError(f"WAN hosts: {dst_host!r} is not an IPv4 loopback address") from None
    if not ip.is_loopback:
        raise WanConfigError(f"WAN hosts: {dst_host} is not a loopback address (127.0.0.0/8)")
    octets = dst_host.split(".")
    if 11 <= int(octets[3]) <= 10 + len(CLOUDS):
        raise WanConfigError(f"WAN hosts: {dst_host} ends in .11-.13, which the emulator's links use")
    return ".".join(octets[:3] + [str(11 + src_index)])


@dataclass(frozen=True)
class Link:
    """One directed link on one port: `listen` (what processes in `src` connect to) → `target`."""

    src: str
    dst: str
    service: str
    listen_host: str
    target_host: str
    port: int

    @property
    def listen(self) -> str:
        return f"{self.listen_host}:{self.port}"

    @property
    def target(self) -> str:
        return f"{self.target_host}:{self.port}"


@dataclass(frozen=True)
class WanPlan:
    """The address plan for three clouds: hosts, service ports, the storage cloud and every link."""

    hosts: Mapping[str, str] = field(default_factory=lambda: dict(LOCAL_HOSTS))
    raft_port: int = 7000
    grpc_port: int = 50051
    s3_port: int = 9000
    storage_cloud: str = "aws"

    def __post_init__(self) -> None:
        missing = [c for c in CLOUDS if c not in self.hosts]
        if missing:
            raise WanConfigError(f"WAN hosts: no address for {', '.join(missing)}")
        if len(set(self.hosts.values())) != len(self.hosts):
            raise WanConfigError("WAN hosts: two clouds share an address")
        if self.storage_cloud not in CLOUDS:
            raise WanConfigError(f"WAN storage cloud: unknown cloud {self.storage_cloud!r}")
        for name, port in (("raft", self.raft_port), ("grpc", self.grpc_port), ("s3", self.s3_port)):
            if not 0 < port < 65536:
                raise WanConfigError(f"WAN {name} port: {port} is not a TCP port")
        for c in CLOUDS:
            link_host(self.hosts[c], 0)  # validates the address
        # Links are named by dst's first three octets: two clouds sharing them would share link addresses.
        prefixes = {c: self.hosts[c].rsplit(".", 1)[0] for c in CLOUDS}
        if len(set(prefixes.values())) != len(CLOUDS):
            a, b = next((a, b) for a in CLOUDS for b in CLOUDS if a < b and prefixes[a] == prefixes[b])
            raise WanConfigError(
                f"WAN hosts: {a} ({self.hosts[a]}) and {b} ({self.hosts[b]}) share their first three octets; "
                "the emulator's link addresses need them to differ (e.g. 127.0.1.1, 127.0.2.1, 127.0.3.1)"
            )

    def link_host(self, src: str, dst: str) -> str:
        return link_host(self.hosts[dst], CLOUDS.index(src))

    def links(self) -> list[Link]:
        """Every directed link: Raft and gRPC to every control plane, S3 to the storage host."""
        out: list[Link] = []
        for src in CLOUDS:
            for dst in CLOUDS:
                if src == dst:
                    continue
                services = [("raft", self.raft_port), ("grpc", self.grpc_port)]
                if dst == self.storage_cloud:
                    services.append(("s3", self.s3_port))
                for service, port in services:
                    out.append(Link(src, dst, service, self.link_host(src, dst), self.hosts[dst], port))
        return out

    def via(self, src: str, dst: str, port: int) -> str:
        """How a process in `src` reaches port `port` of cloud `dst` (direct within a cloud)."""
        host = self.hosts[dst] if src == dst else self.link_host(src, dst)
        return f"{host}:{port}"

    def raft_routes(self, src: str) -> str:
        """RAFT_ROUTES for the control plane of `src`: canonical peer address → link address."""
        return ",".join(
            f"{self.hosts[dst]}:{self.raft_port}={self.via(src, dst, self.raft_port)}"
            for dst in CLOUDS
            if dst != src
        )

    def cp_endpoints(self, src: str, order: Sequence[str] = CLOUDS) -> str:
        """CP_ENDPOINTS for a process in `src`: its own cloud first, then the others through links."""
        rest = [c for c in order if c != src]
        return ",".join(self.via(src, dst, self.grpc_port) for dst in [src, *rest])

    def minio_endpoint(self, src: str) -> str:
        return self.via(src, self.storage_cloud, self.s3_port)

    def cloud_of_raft(self, address: str) -> str | None:
        """The cloud whose canonical Raft address is `address` (for reading /health `leader`)."""
        for cloud, host in self.hosts.items():
            if address == f"{host}:{self.raft_port}":
                return cloud
        return None


def parse_hosts(spec: str) -> dict[str, str]:
    """`aws=127.0.1.1,gcp=...,azure=...` or three addresses in aws,gcp,azure order."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if len(parts) != len(CLOUDS):
        raise WanConfigError(f"WAN hosts: expected three addresses (aws, gcp, azure), got {spec!r}")
    if all("=" in p for p in parts):
        hosts = dict(p.split("=", 1) for p in parts)
        unknown = sorted(set(hosts) - set(CLOUDS))
        if unknown:
            raise WanConfigError(f"WAN hosts: unknown cloud {unknown[0]!r}")
        return {k.strip(): v.strip() for k, v in hosts.items()}
    if any("=" in p for p in parts):
        raise WanConfigError(f"WAN hosts: mix of cloud=addr and bare addresses in {spec!r}")
    return dict(zip(CLOUDS, parts, strict=True))
