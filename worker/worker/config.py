"""The worker's environment (names fixed by DESIGN.md / CONTRACTS.md).

A missing or malformed variable stops the worker at start with one line naming it (``ConfigError``).
Secrets (AUTH_TOKEN, MINIO_SECRET_KEY) are kept out of reprs so a logged config never leaks them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from control_plane.config import ConfigError, env_float, require
from control_plane.config import parse_hostport as _hostport
from worker.storage import StorageConfig

__all__ = ["ConfigError", "WorkerConfig"]


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class WorkerConfig:
    """Everything the worker reads from its environment."""

    worker_id: str
    cloud: str
    cp_endpoints: tuple[str, ...]
    auth_token: str = field(repr=False)
    health_host: str = "0.0.0.0"
    health_port: int = 8081
    storage: StorageConfig | None = None
    gpu: str = "auto"  # auto | true | false (WORKER_GPU)
    tls_ca: str | None = None
    lease_batch: int = 64  # LEASE_BATCH: most cheap tasks leased per call
    lease_wait_ms: int = 1000  # long-poll budget of one LeaseTasks call
    stop_grace_s: float = 8.0  # STOP_GRACE_S: time a running task gets to finish after SIGTERM
    cp_retry_s: float = 30.0  # CP_RETRY_S: how long one call retries along CP_ENDPOINTS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerConfig:
        """Parse and validate the environment."""
        env = os.environ if env is None else env
        cloud = require(env, "CLOUD").lower()
        if not _NAME_RE.match(cloud):
            raise ConfigError(f"CLOUD: expected a short name such as aws, gcp or azure, got {cloud!r}")
        worker_id = env.get("WORKER_ID", "").strip() or f"worker-{cloud}"
        if not _NAME_RE.match(worker_id):
            raise ConfigError(f"WORKER_ID: letters, digits, '.', '_' and '-' only, got {worker_id!r}")
        raw_eps = require(env, "CP_ENDPOINTS")
        endpoints = tuple(e.strip() for e in raw_eps.split(",") if e.strip())
        if not endpoints:
            raise ConfigError(f"CP_ENDPOINTS: expected a comma-separated list of host:port, got {raw_eps!r}")
        for ep in endpoints:
            _hostport(ep, "CP_ENDPOINTS")
        token = require(env, "AUTH_TOKEN")
        health_host, health_port = _hostport(env.get("HEALTH_ADDR", "0.0.0.0:8081"), "HEALTH_ADDR")
        gpu = env.get("WORKER_GPU", "auto").strip().lower() or "auto"
        if gpu not in ("auto", "true", "false"):
            raise ConfigError(f"WORKER_GPU: expected auto, true or false, got {gpu!r}")
        try:
            storage = StorageConfig.from_env(dict(env))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        tls_ca = env.get("TLS_CA", "").strip() or None
        if tls_ca and not os.path.isfile(tls_ca):
            raise ConfigError(f"TLS_CA: no such file {tls_ca!r}")
        return cls(
            worker_id=worker_id,
            cloud=cloud,
            cp_endpoints=endpoints,
            auth_token=token,
            health_host=health_host,
            health_port=health_port,
            storage=storage,
            gpu=gpu,
            tls_ca=tls_ca,
            lease_batch=int(env_float(env, "LEASE_BATCH", 64, 1, 1000)),
            lease_wait_ms=int(env_float(env, "LEASE_WAIT_MS", 1000, 0, 30000)),
            stop_grace_s=env_float(env, "STOP_GRACE_S", 8.0, 0, 3600),
            cp_retry_s=env_float(env, "CP_RETRY_S", 30.0, 1, 3600),
        )
