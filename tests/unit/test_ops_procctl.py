"""procctl: detached services with pid files, idempotent start, honest changed, clear failures."""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcloud_tui.ops import procctl

pytestmark = pytest.mark.integration

SERVER = "import http.server,os,sys; http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), http.server.SimpleHTTPRequestHandler).serve_forever()"


def _free_port(ip: str) -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


@pytest.fixture
def host_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "node"
    yield d
    procctl.stop_all(d, timeout=2)
    procctl.sweep(d, timeout=2)


def _serve(host_dir: Path, port: int, env_file: Path | None = None) -> procctl.StartResult:
    return procctl.start(
        host_dir,
        "web",
        [sys.executable, "-c", SERVER, "127.0.0.1", str(port)],
        env_file=env_file,
        ports=[("127.0.0.1", port)],
    )


def test_start_is_idempotent_and_restarts_on_a_new_env(host_dir: Path, tmp_path: Path) -> None:
    port = _free_port("127.0.0.1")
    env = tmp_path / "web.env"
    env.write_text("# comment\nA=1\nB='two'\n")
    first = _serve(host_dir, port, env)
    assert first.changed and first.action == "started"
    procctl.wait_ready(host_dir, "web", url=f"http://127.0.0.1:{port}/", timeout=15)
    again = _serve(host_dir, port, env)
    assert (again.changed, again.pid, again.action) == (False, first.pid, "running")
    env.write_text("A=2\n")
    third = _serve(host_dir, port, env)
    assert third.changed and third.action == "restarted" and third.pid != first.pid
    assert Path(f"/proc/{third.pid}/environ").read_bytes().split(b"\0").count(b"A=2") == 1
    assert procctl.stop(host_dir, "web") is True
    assert procctl.running_pid(host_dir, "web") is None and procctl.stop(host_dir, "web") is False


def test_port_taken_is_refused_naming_the_owner(host_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(procctl.ProcError, match=rf"port 127.0.0.1:{port} is already in use by pid \d+"):
            _serve(host_dir, port)
    assert procctl.services(host_dir) == []


def test_a_service_that_dies_fails_fast_with_its_log_tail(host_dir: Path) -> None:
    procctl.start(
        host_dir, "bad", [sys.executable, "-c", "import sys; print('boom: DATA_DIR missing'); sys.exit(3)"]
    )
    t0 = time.monotonic()
    with pytest.raises(procctl.ProcError, match="bad exited during start") as exc:
        procctl.wait_ready(host_dir, "bad", url="http://127.0.0.1:9/", timeout=30)
    assert "boom: DATA_DIR missing" in str(exc.value) and time.monotonic() - t0 < 10


def test_cli_reports_json_and_sweep_finds_strays(host_dir: Path, capsys) -> None:
    assert (
        procctl.main(
            [
                "start",
                "sleeper",
                "--dir",
                str(host_dir),
                "--set",
                "X=1",
                "--",
                sys.executable,
                "-c",
                "import time; time.sleep(60)",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["changed"] is True
    assert procctl.main(["status", "sleeper", "--dir", str(host_dir)]) == 0
    capsys.readouterr()
    # lose the pid file: only the cwd sweep can still find the process
    (host_dir / "run" / "sleeper.pid").unlink()
    assert procctl.sweep(host_dir) == [out["pid"]]
    assert procctl.cmdline(out["pid"]) is None
    assert procctl.main(["stop-all", "--dir", str(host_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is False
