"""`mcloud-storage`: the local S3-compatible storage of the AWS host.

Runs the real ``minio`` binary when one is on PATH (it enforces MINIO_ACCESS_KEY / MINIO_SECRET_KEY and keeps
objects in DATA_DIR), otherwise moto's S3 server as an embedded stand-in. moto keeps objects in memory and
does not verify signatures: this wrapper rejects requests whose access key id is not MINIO_ACCESS_KEY, but a
wrong *secret* key is accepted. The first stderr line says which server runs and what it enforces.

Env: STORAGE_ADDR host:port (default 0.0.0.0:9000), MINIO_ACCESS_KEY, MINIO_SECRET_KEY, DATA_DIR,
optional MINIO_BUCKET (created at start, default "mcloud"), STORAGE_BACKEND (auto | minio | moto).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from control_plane.config import ConfigError

log = logging.getLogger("worker.storage_server")

_CRED_RE = re.compile(r"Credential=([^/,\s]+)/")


@dataclass(frozen=True)
class ServerConfig:
    """The storage server's env contract."""

    host: str
    port: int
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    data_dir: str
    bucket: str
    backend: str  # "minio" | "moto"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ServerConfig:
        """Parse the environment; ConfigError naming the variable when one is missing or malformed."""
        env = dict(os.environ if env is None else env)
        addr = env.get("STORAGE_ADDR", "0.0.0.0:9000")
        host, _, port_s = addr.rpartition(":")
        if not host or not port_s.isdigit() or not 0 < int(port_s) < 65536:
            raise ConfigError(f"STORAGE_ADDR must be host:port, got {addr!r}")
        for var in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
            if not env.get(var):
                raise ConfigError(f"{var} is required (the storage credentials; never a default)")
        if len(env["MINIO_ACCESS_KEY"]) < 3 or len(env["MINIO_SECRET_KEY"]) < 8:
            raise ConfigError(
                "MINIO_ACCESS_KEY needs >= 3 characters and MINIO_SECRET_KEY >= 8 (MinIO's rule)"
            )
        want = env.get("STORAGE_BACKEND", "auto").strip().lower()
        if want not in ("auto", "minio", "moto"):
            raise ConfigError(f"STORAGE_BACKEND must be auto, minio or moto, got {want!r}")
        has_minio = shutil.which("minio") is not None
        if want == "minio" and not has_minio:
            raise ConfigError("STORAGE_BACKEND=minio but no `minio` binary is on PATH")
        backend = "minio" if (want == "minio" or (want == "auto" and has_minio)) else "moto"
        data_dir = env.get("DATA_DIR", "")
        if backend == "minio" and not data_dir:
            raise ConfigError("DATA_DIR is required for the minio server (where objects are kept)")
        return cls(
            host=host,
            port=int(port_s),
            access_key=env["MINIO_ACCESS_KEY"],
            secret_key=env["MINIO_SECRET_KEY"],
            data_dir=data_dir,
            bucket=env.get("MINIO_BUCKET", "mcloud") or "mcloud",
            backend=backend,
        )


def access_key_guard(app: Callable[..., Iterable[bytes]], access_key: str) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: 403 for any request not signed (SigV4 header or presigned query) with ``access_key``."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = _CRED_RE.search(auth)
        key = m.group(1) if m else None
        if key is None:
            qs = environ.get("QUERY_STRING", "")
            qm = re.search(r"X-Amz-Credential=([^%/&]+)", qs)
            key = qm.group(1) if qm else None
        if key != access_key:
            body = (
                b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code>'
                b"<Message>The access key ID you provided does not exist in our records.</Message></Error>"
            )
            start_response(
                "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return app(environ, start_response)

    return guarded


class MotoStorage:
    """moto's S3 server on a werkzeug thread, behind the access-key guard."""

    def __init__(self, cfg: ServerConfig) -> None:
        self.cfg = cfg
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> tuple[str, int]:
        """Bind and serve in a background thread; returns the bound (host, port)."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = access_key_guard(DomainDispatcherApplication(create_backend_app), self.cfg.access_key)
        self._server = make_server(
            self.cfg.host, self.cfg.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-s3", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        """Stop serving (objects are lost: moto keeps them in memory)."""
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _ensure_bucket(host: str, port: int, cfg: ServerConfig) -> None:
    from worker.storage import Storage, StorageConfig

    target = "127.0.0.1" if host in ("0.0.0.0", "") else host
    Storage(StorageConfig(f"{target}:{port}", cfg.access_key, cfg.secret_key, cfg.bucket)).ensure_bucket()


def run_moto(cfg: ServerConfig) -> int:
    """Serve moto until SIGTERM / SIGINT."""
    os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(16 * 2**20))
    server = MotoStorage(cfg)
    try:
        host, port = server.start()
    except SystemExit:  # werkzeug prints its reason and exits when the port is taken
        raise OSError(f"address {cfg.host}:{cfg.port} is in use or not available") from None
    print(
        f"storage: moto S3 stand-in at {host}:{port} (embedded; objects in memory, DATA_DIR unused; checks the "
        f"access key id only, a wrong secret key is accepted: not for production; put a `minio` binary on PATH "
        f"for a server that enforces both keys)",
        file=sys.stderr,
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        _ensure_bucket(host, port, cfg)
        print(f"storage: bucket {cfg.bucket!r} ready", file=sys.stderr, flush=True)
        stop.wait()
    finally:
        server.stop()
    print("storage: stopped", file=sys.stderr, flush=True)
    return 0


def run_minio(cfg: ServerConfig) -> int:
    """Replace this process with ``minio server`` (its signals and exit code become ours)."""
    binary = shutil.which("minio")
    assert binary is not None
    os.makedirs(cfg.data_dir, exist_ok=True)
    print(
        f"storage: minio server at {cfg.host}:{cfg.port} ({binary}; data in {cfg.data_dir}; enforces the access "
        f"and secret keys)",
        file=sys.stderr,
        flush=True,
    )
    env = dict(os.environ)
    env.update(MINIO_ROOT_USER=cfg.access_key, MINIO_ROOT_PASSWORD=cfg.secret_key, MINIO_BROWSER="off")
    for var in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):  # deprecated names; minio warns about them
        env.pop(var, None)
    os.execve(binary, [binary, "server", "--quiet", "--address", f"{cfg.host}:{cfg.port}", cfg.data_dir], env)
    return 1  # not reached


def main(argv: list[str] | None = None) -> int:
    """Console script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
    try:
        cfg = ServerConfig.from_env()
    except ConfigError as exc:
        print(f"mcloud-storage: {exc}", file=sys.stderr)
        return 2
    try:
        return run_minio(cfg) if cfg.backend == "minio" else run_moto(cfg)
    except OSError as exc:
        print(
            f"mcloud-storage: cannot serve on {cfg.host}:{cfg.port}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
