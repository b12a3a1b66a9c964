"""Run one control-plane node: Raft, the gRPC API, /health and /metrics, lease expiry, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import sys
import time

import grpc

from .auth import BearerAuthInterceptor
from .config import ConfigError, NodeConfig, load_node_config, parse_hostport
from .http_server import Response, serve_http
from .metrics import LatencyInterceptor, NodeMetrics
from .proto import mcloud_pb2_grpc as pb_grpc
from .raft import ProposalFailed, RaftNode
from .service import ControlPlaneService, Watchers, health_snapshot

log = logging.getLogger("control_plane")


def check_port_free(addr: str, var: str) -> None:
    """Fail early, naming the variable, when an address is taken (PySyncObj would retry silently)."""
    host, port = parse_hostport(addr, var)
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"{var}: address {addr} is already in use") from None
            raise ConfigError(f"{var}: cannot bind {addr}: {exc.strerror}") from None


async def expiry_loop(cfg: NodeConfig, node: RaftNode, stop: asyncio.Event) -> None:
    """The leader returns expired leases to the queue.

    A new leader first waits one TTL: it cannot know which workers were renewing through the old leader,
    so every lease gets a fresh grace period (what Nomad does after a failover) instead of expiring at once.
    """
    interval = max(0.05, min(1.0, cfg.lease_ttl / 10))
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if stop.is_set():
            return
        if node.leader_for() < cfg.lease_ttl:
            continue
        expired = node.read(lambda s: s.expired_leases(time.time()))
        if expired:
            with contextlib.suppress(ProposalFailed):
                await node.propose("expire", expired, time.time())


async def run_node(cfg: NodeConfig) -> None:
    for addr, var in (
        (cfg.raft_self, "RAFT_SELF"),
        (cfg.grpc_addr, "GRPC_ADDR"),
        (cfg.health_addr, "HEALTH_ADDR"),
    ):
        check_port_free(addr, var)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    node = RaftNode(cfg)
    watchers = Watchers()
    node.set_listener(lambda jobs: loop.call_soon_threadsafe(watchers.publish, jobs))
    metrics = NodeMetrics()

    server = grpc.aio.server(
        interceptors=[BearerAuthInterceptor(cfg.auth_token), LatencyInterceptor(metrics)]
    )
    pb_grpc.add_ControlPlaneServicer_to_server(ControlPlaneService(cfg, node, watchers), server)
    if cfg.tls_cert and cfg.tls_key:
        with open(cfg.tls_key, "rb") as k, open(cfg.tls_cert, "rb") as c:
            creds = grpc.ssl_server_credentials([(k.read(), c.read())])
        bound = server.add_secure_port(cfg.grpc_addr, creds)
    else:
        bound = server.add_insecure_port(cfg.grpc_addr)
    if not bound:
        raise ConfigError(f"GRPC_ADDR: cannot listen on {cfg.grpc_addr}")
    await server.start()

    async def health() -> Response:
        return Response.json(health_snapshot(cfg, node))

    async def prom() -> Response:
        st = node.status()
        counts, leases, stale, expired = node.read(
            lambda s: (dict(s.counts), len(s.leased), s.stale_total, s.expired_total)
        )
        metrics.update(st, counts, leases, stale, expired)
        return Response.text(metrics.render())

    host, port = parse_hostport(cfg.health_addr, "HEALTH_ADDR")
    http = await serve_http(host, port, {"/health": health, "/metrics": prom})
    expiry = asyncio.create_task(expiry_loop(cfg, node, stop))
    log.info(
        "node %s (%s) up: raft %s peers %s, grpc %s, http %s, data %s",
        cfg.node_id,
        cfg.cloud,
        cfg.raft_self,
        ",".join(cfg.raft_peers),
        cfg.grpc_addr,
        cfg.health_addr,
        cfg.data_dir,
    )
    try:
        await stop.wait()
    finally:
        log.info("node %s stopping", cfg.node_id)
        for q in list(watchers.queues):
            q.put_nowait(None)
        expiry.cancel()
        http.close()
        await server.stop(grace=2)
        node.close()
        log.info("node %s stopped", cfg.node_id)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pysyncobj").setLevel(logging.WARNING)
    try:
        cfg = load_node_config()
        asyncio.run(run_node(cfg))
    except ConfigError as exc:
        print(f"mcloud-cp: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        pass
