"""Detached local services with pid files: the ``process`` runtime of the pipeline-node role.

Ansible (roles/pipeline-node/tasks/process.yml) calls ``python -m mcloud_tui.ops.procctl start|wait|stop``;
the ops core imports the same functions for its teardown safety net. Layout per host:
``<host_dir>/run/<name>.pid`` + ``<name>.spec`` (what was started), ``<host_dir>/logs/<name>.log`` (the role's pipeline_log_dir).

"Already running" means: pid file, live process, same command line and same spec (argv + environment
hash) -> nothing is done and ``changed`` is false, so a second deploy starts nothing twice. A changed
spec (new .env) restarts the service. Every service runs in its own session (setsid) with cwd = host_dir,
so a crashed ops process cannot take it down and the teardown sweep finds it by its cwd.
Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Variables a service inherits from the caller's environment; everything else comes from .env / --set.
_INHERIT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "TZ")


class ProcError(RuntimeError):
    """A service could not be started / did not become ready; the message says why (log tail included)."""


@dataclass(frozen=True)
class StartResult:
    name: str
    pid: int
    changed: bool
    log: str
    action: str  # started | restarted | running


# --- /proc helpers ------------------------------------------------------------------------------------
def cmdline(pid: int) -> list[str] | None:
    """argv of a live (non-zombie) process, or None."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if not raw:
        return None  # zombie or kernel thread
    return raw.rstrip(b"\0").decode(errors="replace").split("\0")


def _alive(pid: int) -> bool:
    return cmdline(pid) is not None


def port_in_use(ip: str, port: int) -> bool:
    """True when binding ip:port fails with EADDRINUSE (what the service itself would hit)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _hex_addr(ip: str, port: int) -> str:
    packed = socket.inet_aton(ip)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"


def port_owner(ip: str, port: int) -> tuple[int, str] | None:
    """(pid, command line) of the process listening on ip:port (or 0.0.0.0:port), when we can see it."""
    wanted = {_hex_addr(ip, port), _hex_addr("0.0.0.0", port)}
    inodes: set[str] = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        f = line.split()
        if len(f) > 9 and f[1] in wanted and f[3] == "0A":
            inodes.add(f[9])
    if not inodes:
        return None
    targets = {f"socket:[{i}]" for i in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in targets:
                        pid = int(proc.name)
                        return pid, " ".join(cmdline(pid) or ["?"])
        except OSError:
            continue
    return None


def describe_port_conflict(ip: str, port: int) -> str:
    owner = port_owner(ip, port)
    who = f" by pid {owner[0]} ({owner[1][:120]})" if owner else ""
    return f"port {ip}:{port} is already in use{who}"


# --- files ----------------------------------------------------------------------------------------------
def _paths(host_dir: Path, name: str) -> tuple[Path, Path, Path]:
    return (
        host_dir / "run" / f"{name}.pid",
        host_dir / "run" / f"{name}.spec",
        host_dir / "logs" / f"{name}.log",
    )


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (Compose .env syntax: comments, blank lines, optional matching quotes)."""
    env: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


def log_tail(host_dir: Path, name: str, lines: int = 30) -> list[str]:
    """The last lines of a service's log (empty when there is none)."""
    log = _paths(host_dir, name)[2]
    try:
        with log.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode(errors="replace")
    except OSError:
        return []
    return data.splitlines()[-lines:]


def running_pid(host_dir: Path, name: str) -> int | None:
    """pid of the service when its pid file names a live process with the recorded command line."""
    pid_file, spec_file, _ = _paths(host_dir, name)
    try:
        pid = int(pid_file.read_text().strip())
        spec = json.loads(spec_file.read_text())
    except (OSError, ValueError):
        return None
    return pid if cmdline(pid) == spec.get("argv") else None


# --- start / stop ---------------------------------------------------------------------------------------
def _spec(argv: Sequence[str], env: Mapping[str, str]) -> dict:
    digest = hashlib.sha256(json.dumps(sorted(env.items())).encode()).hexdigest()
    return {"argv": list(argv), "env_sha256": digest}


def start(
    host_dir: Path,
    name: str,
    argv: Sequence[str],
    *,
    env_file: Path | None = None,
    overrides: Mapping[str, str] | None = None,
    ports: Iterable[tuple[str, int]] = (),
) -> StartResult:
    """Start ``argv`` detached unless the same spec already runs; restart it when the spec changed."""
    if not argv:
        raise ProcError(f"{name}: empty command")
    for d in ("run", "logs", "data"):
        (host_dir / d).mkdir(parents=True, exist_ok=True, mode=0o700)
    pid_file, spec_file, log = _paths(host_dir, name)
    env_vars = read_env_file(env_file) if env_file else {}
    env_vars.update(overrides or {})
    spec = _spec(argv, env_vars)

    pid = running_pid(host_dir, name)
    action = "started"
    if pid is not None:
        old = json.loads(spec_file.read_text())
        if old == spec:
            return StartResult(name, pid, False, str(log), "running")
        stop(host_dir, name)
        action = "restarted"

    for ip, port in ports:
        if port_in_use(ip, port):
            raise ProcError(f"{name}: cannot start, {describe_port_conflict(ip, port)}")

    env = {k: os.environ[k] for k in _INHERIT if k in os.environ}
    env.update(env_vars)
    env["PYTHONUNBUFFERED"] = "1"
    with log.open("ab") as fh:
        fh.write(
            f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} procctl start {name}: {' '.join(argv)}\n".encode()
        )
        fh.flush()
        proc = subprocess.Popen(  # noqa: S603 - argv comes from our own role
            list(argv),
            cwd=host_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    spec_file.write_text(json.dumps(spec))
    pid_file.write_text(f"{proc.pid}\n")
    # The exec may still be in flight (the kernel fills /proc/<pid>/cmdline late): wait until the process
    # shows its own command line (or died), so "running" checks right after start are reliable.
    deadline = time.monotonic() + 5.0
    while cmdline(proc.pid) != list(argv) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return StartResult(name, proc.pid, True, str(log), action)


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM, wait up to ``timeout``, then SIGKILL (the whole session: services may have children)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            try:
                os.killpg(pid, sig)  # the service leads its own session / group
            except ProcessLookupError:
                os.kill(pid, sig)
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap when it is our child (tests)
            if not _alive(pid):
                return
            time.sleep(0.05)


def stop(host_dir: Path, name: str, timeout: float = 10.0) -> bool:
    """Stop the service if it runs; remove its pid file. True when something was stopped."""
    pid_file, spec_file, _ = _paths(host_dir, name)
    pid = running_pid(host_dir, name)
    if pid is not None:
        _terminate(pid, timeout)
    for f in (pid_file, spec_file):
        f.unlink(missing_ok=True)
    return pid is not None


def services(host_dir: Path) -> list[str]:
    """Names that have a pid file under host_dir/run."""
    run = host_dir / "run"
    return sorted(p.stem for p in run.glob("*.pid")) if run.is_dir() else []


def stop_all(host_dir: Path, timeout: float = 10.0) -> list[str]:
    """Stop every service of one host at once (SIGTERM to all, one shared grace period); the names that
    were running."""
    running = {n: pid for n in services(host_dir) if (pid := running_pid(host_dir, n)) is not None}
    threads = [
        threading.Thread(target=_terminate, args=(pid, timeout), daemon=True) for pid in running.values()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in services(host_dir):
        stop(host_dir, n, timeout)  # removes the pid/spec files (and stops anything restarted meanwhile)
    return sorted(running)


def sweep(root: Path, timeout: float = 5.0) -> list[int]:
    """Kill every process whose cwd lies under ``root`` (safety net after an interrupted deploy)."""
    root = root.resolve()
    found: list[int] = []
    me = os.getpid()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == me:
            continue
        try:
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:
            continue
        if (cwd == root or root in cwd.parents) and _alive(int(proc.name)):
            found.append(int(proc.name))
    for pid in found:
        _terminate(pid, timeout)
    return found


# --- readiness ------------------------------------------------------------------------------------------
def _probe(url: str | None, tcp: tuple[str, int] | None) -> bool:
    if url:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:  # noqa: S310 - our own health URL
                return 200 <= resp.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False
    if tcp:
        try:
            with socket.create_connection(tcp, timeout=1.0):
                return True
        except OSError:
            return False
    return True


def wait_ready(
    host_dir: Path,
    name: str,
    *,
    url: str | None = None,
    tcp: tuple[str, int] | None = None,
    timeout: float = 30.0,
) -> float:
    """Wait until the service answers; fail fast (with its log tail) when its process exits."""
    t0 = time.monotonic()
    while True:
        if running_pid(host_dir, name) is None:
            tail = "\n".join(log_tail(host_dir, name))
            raise ProcError(f"{name} exited during start; last lines of its log:\n{tail}")
        if _probe(url, tcp):
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            tail = "\n".join(log_tail(host_dir, name))
            what = url or (f"{tcp[0]}:{tcp[1]}" if tcp else "")
            raise ProcError(
                f"{name} did not answer on {what} within {timeout:.0f}s; last lines of its log:\n{tail}"
            )
        time.sleep(0.1)


# --- CLI (used by the Ansible role) ---------------------------------------------------------------------
def _addr(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected host:port, got {value!r}")
    return host, int(port)


def _kv(value: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key, val


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mcloud_tui.ops.procctl", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="start a service unless it already runs with the same spec")
    s.add_argument("name")
    s.add_argument("--dir", type=Path, required=True)
    s.add_argument("--env-file", type=Path)
    s.add_argument("--set", type=_kv, action="append", default=[], dest="sets")
    s.add_argument("--port", type=_addr, action="append", default=[], help="host:port that must be free")
    w = sub.add_parser("wait", help="wait until a service answers (fails fast when it exits)")
    w.add_argument("name")
    w.add_argument("--dir", type=Path, required=True)
    w.add_argument("--url")
    w.add_argument("--tcp", type=_addr)
    w.add_argument("--timeout", type=float, default=30.0)
    for cmd in ("stop", "status", "tail"):
        x = sub.add_parser(cmd)
        x.add_argument("name")
        x.add_argument("--dir", type=Path, required=True)
        x.add_argument("--lines", type=int, default=30)
    a = sub.add_parser("stop-all", help="stop every service of one host dir")
    a.add_argument("--dir", type=Path, required=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:  # everything after -- is the service's command line
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    args = p.parse_args(argv)

    try:
        if args.cmd == "start":
            r = start(
                args.dir,
                args.name,
                command,
                env_file=args.env_file,
                overrides=dict(args.sets),
                ports=args.port,
            )
            print(json.dumps({"changed": r.changed, "pid": r.pid, "action": r.action, "log": r.log}))
        elif args.cmd == "wait":
            took = wait_ready(args.dir, args.name, url=args.url, tcp=args.tcp, timeout=args.timeout)
            print(json.dumps({"changed": False, "ready_after_s": round(took, 2)}))
        elif args.cmd == "stop":
            print(json.dumps({"changed": stop(args.dir, args.name)}))
        elif args.cmd == "stop-all":
            stopped = stop_all(args.dir)
            print(json.dumps({"changed": bool(stopped), "stopped": stopped}))
        elif args.cmd == "status":
            pid = running_pid(args.dir, args.name)
            print(json.dumps({"changed": False, "running": pid is not None, "pid": pid}))
            return 0 if pid else 3
        elif args.cmd == "tail":
            print("\n".join(log_tail(args.dir, args.name, args.lines)))
    except (ProcError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
