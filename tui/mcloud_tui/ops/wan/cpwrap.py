"""Start a control-plane node whose peers are reached through WAN links: `python -m mcloud_tui.ops.wan.cpwrap`.

A bridge until the control plane reads RAFT_ROUTES itself (requested in notes/REQUESTS.md). RAFT_ROUTES
(`peer=connect`, comma list) says where to open the TCP connection to a peer that keeps its canonical
address as its identity. PySyncObj connects with `connect(node.ip, node.port)` where `ip` comes from its
process-wide DNS resolver, so mapping the peer's host in that resolver reroutes exactly those connections
(ports must match, which the emulator's plan guarantees). When `NodeConfig` already has `raft_routes`, the
control plane does it itself and this wrapper only runs it.
"""

from __future__ import annotations

import os
import sys


def _install_routes(spec: str) -> None:
    from pysyncobj.dns_resolver import globalDnsResolver

    hosts: dict[str, str] = {}
    for item in (i.strip() for i in spec.split(",") if i.strip()):
        peer, sep, connect = item.partition("=")
        p_host, _, p_port = peer.rpartition(":")
        c_host, _, c_port = connect.rpartition(":")
        if not sep or not p_host or not c_host or p_port != c_port:
            print(f"RAFT_ROUTES: expected peer=connect with the same port, got {item!r}", file=sys.stderr)
            sys.exit(2)
        hosts[p_host] = c_host
    resolver = globalDnsResolver()
    original = resolver.resolve

    def resolve(hostname: str) -> str | None:
        return original(hosts.get(hostname, hostname))

    resolver.resolve = resolve  # type: ignore[method-assign]


def main() -> None:
    from control_plane import config, server

    spec = os.environ.get("RAFT_ROUTES", "").strip()
    if spec and "raft_routes" not in getattr(config.NodeConfig, "__dataclass_fields__", {}):
        _install_routes(spec)
    server.main()


if __name__ == "__main__":
    main()
