"""Terraform, run as a subprocess with ``-json``; its machine-readable stream is parsed line by line as it
arrives and turned into events tagged with the host each resource belongs to.

The subprocess runs in its own session so a Ctrl-C in the terminal does not reach it twice: on cancel we
send exactly one SIGINT (Terraform then stops gracefully and writes its state), and kill it only if it
does not exit within a grace period. That keeps an interrupted apply from leaking resources.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import TargetConfig
from .events import Error, EventSink, HostLog, Phase, ResourceProgress
from .hostmap import host_of

_STATE_OF = {
    "apply_start": "started",
    "apply_progress": "progress",
    "apply_complete": "complete",
    "apply_errored": "errored",
    "planned_change": "planned",
}


class TerraformError(RuntimeError):
    """A terraform command failed; ``diagnostics`` holds its error summaries."""

    def __init__(self, message: str, diagnostics: list[str] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


class Cancelled(RuntimeError):
    """The operation was cancelled (Ctrl-C / console quit); children were stopped."""


@dataclass
class StreamResult:
    rc: int
    changes: dict[str, int] = field(default_factory=dict)
    diagnostics: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


def terraform_binary() -> str | None:
    return os.environ.get("MCLOUD_TERRAFORM") or shutil.which("terraform")


def event_from_json(msg: dict[str, Any]) -> list:
    """Map one ``terraform -json`` message to events (pure; unit-tested)."""
    kind = msg.get("type", "")
    text = str(msg.get("@message", ""))
    level = msg.get("@level", "info")
    level = level if level in ("debug", "info", "warning", "error") else "info"
    if kind in ("apply_start", "apply_progress", "apply_complete", "apply_errored", "planned_change"):
        body = msg.get("hook") or msg.get("change") or {}
        addr = (body.get("resource") or {}).get("addr", "")
        host = host_of(addr)
        prog = ResourceProgress(
            host=host,
            address=addr,
            action=str(body.get("action", "")),
            state=_STATE_OF[kind],  # type: ignore[arg-type]
            elapsed_s=float(body.get("elapsed_seconds", 0) or 0),
        )
        lvl = "error" if kind == "apply_errored" else level
        return [prog, HostLog(host, "terraform", text, lvl)]  # type: ignore[arg-type]
    if kind == "diagnostic":
        d = msg.get("diagnostic") or {}
        addr = d.get("address") or ((d.get("range") or {}).get("filename")) or ""
        detail = str(d.get("detail", "")).strip()
        line = str(d.get("summary", text)) + (f": {detail}" if detail else "")
        sev = "error" if d.get("severity") == "error" else "warning"
        return [HostLog(host_of(addr) or host_of(line), "terraform", line, sev)]
    if kind in ("version", "outputs"):
        return [HostLog(None, "terraform", text, "debug")]
    if kind in (
        "refresh_start",
        "refresh_complete",
        "resource_drift",
        "provision_start",
        "provision_complete",
        "provision_progress",
        "provision_errored",
        "ephemeral_op_start",
        "ephemeral_op_complete",
    ):
        body = msg.get("hook") or msg.get("change") or {}
        addr = (body.get("resource") or {}).get("addr", "")
        return [HostLog(host_of(addr), "terraform", text, level)]  # type: ignore[arg-type]
    return [HostLog(host_of(text), "terraform", text, level)]  # type: ignore[arg-type]


class Terraform:
    """One root module (local or cloud), with its state location decided by TargetConfig."""

    def __init__(self, cfg: TargetConfig, sink: EventSink, cancel: threading.Event | None = None) -> None:
        self.cfg = cfg
        self.sink = sink
        self.cancel = cancel or threading.Event()
        self.binary = terraform_binary()

    # --- environment -----------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TF_IN_AUTOMATION"] = "1"
        env["TF_INPUT"] = "0"
        if self.cfg.tf_data_dir is not None:
            env["TF_DATA_DIR"] = str(self.cfg.tf_data_dir)
        cli_cfg = env.get("TF_CLI_CONFIG_FILE")
        if cli_cfg and not Path(cli_cfg).exists():
            env.pop("TF_CLI_CONFIG_FILE")  # a dangling setting only adds a warning to every command
        return env

    def _base(self) -> list[str]:
        if not self.binary:
            raise TerraformError(
                "terraform not found on PATH (install Terraform >= 1.4, or set MCLOUD_TERRAFORM)"
            )
        return [self.binary, f"-chdir={self.cfg.tf_dir}"]

    # --- commands --------------------------------------------------------------------------------
    def init(self, phase: Phase = "provision") -> None:
        args = ["init", "-input=false", "-no-color"]
        if self.cfg.tf_state_path is not None:
            self.cfg.tf_state_path.parent.mkdir(parents=True, exist_ok=True)
            args += ["-reconfigure", f"-backend-config=path={self.cfg.tf_state_path}"]
        rc, out = self._run_text(args)
        if rc != 0:
            raise TerraformError(f"terraform init failed in {self.cfg.tf_dir}", out[-15:])

    def plan(self, plan_file: Path | None = None, destroy: bool = False) -> StreamResult:
        args = ["plan", "-json", "-input=false", "-lock-timeout=30s", *self.cfg.tf_vars()]
        if destroy:
            args.append("-destroy")
        if plan_file is not None:
            args.append(f"-out={plan_file}")
        res = self._stream(args)
        if res.rc not in (0,):
            raise TerraformError("terraform plan failed", res.diagnostics)
        return res

    def apply(self, plan_file: Path | None = None) -> StreamResult:
        args = ["apply", "-json", "-input=false", "-auto-approve", "-lock-timeout=30s"]
        args += [str(plan_file)] if plan_file is not None else self.cfg.tf_vars()
        res = self._stream(args)
        if res.rc != 0:
            raise TerraformError("terraform apply failed", res.diagnostics)
        return res

    def destroy(self) -> StreamResult:
        args = ["destroy", "-json", "-input=false", "-auto-approve", "-lock-timeout=30s", *self.cfg.tf_vars()]
        res = self._stream(args)
        if res.rc != 0:
            raise TerraformError("terraform destroy failed", res.diagnostics)
        return res

    def output(self) -> dict[str, Any]:
        """``terraform output -json`` as {name: value} (empty dict when the state has no outputs)."""
        rc, out = self._run_text(["output", "-json", "-no-color"], merge=False)
        if rc != 0:
            raise TerraformError("terraform output failed", out[-10:])
        raw = json.loads("\n".join(out) or "{}")
        return {k: v.get("value") for k, v in raw.items()}

    def planned_nodes(self, plan_file: Path) -> dict[str, dict[str, Any]]:
        """The ``nodes`` output a saved plan will produce, where already known (for the cost preview)."""
        rc, out = self._run_text(["show", "-json", "-no-color", str(plan_file)], merge=False)
        if rc != 0:
            return {}
        try:
            plan = json.loads("\n".join(out))
        except ValueError:
            return {}
        after = ((plan.get("output_changes") or {}).get("nodes") or {}).get("after")
        if not isinstance(after, dict):
            after = (((plan.get("planned_values") or {}).get("outputs") or {}).get("nodes") or {}).get(
                "value"
            )
        return {k: v for k, v in (after or {}).items() if isinstance(v, dict)}

    def state_list(self) -> list[str]:
        rc, out = self._run_text(["state", "list", "-no-color"], merge=False)
        if rc != 0:
            joined = " ".join(out)
            if "No state file was found" in joined or not joined.strip():
                return []
            raise TerraformError("terraform state list failed", out[-10:])
        return [line for line in out if line.strip()]

    # --- process handling ------------------------------------------------------------------------
    def _run_text(self, args: list[str], merge: bool = True) -> tuple[int, list[str]]:
        proc = subprocess.Popen(  # noqa: S603
            self._base() + args,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=300)
        finally:
            _stop(proc)
        lines = out.splitlines()
        if proc.returncode != 0 and err:
            lines += err.splitlines()
        return proc.returncode, lines

    def _stream(self, args: list[str]) -> StreamResult:
        """Run with -json and emit events for every line as it arrives; honour cancel."""
        res = StreamResult(rc=-1)
        proc = subprocess.Popen(  # noqa: S603
            self._base() + args,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        stderr_lines: list[str] = []
        t_err = threading.Thread(target=_drain, args=(proc.stderr, stderr_lines.append), daemon=True)
        t_err.start()
        watcher = threading.Thread(target=self._watch_cancel, args=(proc,), daemon=True)
        watcher.start()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                raw = raw.strip()
                if not raw:
                    continue
                try:
                    msg = json.loads(raw)
                except ValueError:
                    self.sink(HostLog(host_of(raw), "terraform", raw))
                    continue
                if msg.get("type") == "change_summary":
                    res.changes = dict(msg.get("changes") or {})
                if msg.get("type") == "outputs":
                    res.outputs = dict(msg.get("outputs") or {})
                if (
                    msg.get("type") == "diagnostic"
                    and (msg.get("diagnostic") or {}).get("severity") == "error"
                ):
                    d = msg["diagnostic"]
                    res.diagnostics.append(
                        str(d.get("summary", "")) + (f": {d['detail']}" if d.get("detail") else "")
                    )
                for ev in event_from_json(msg):
                    self.sink(ev)
            res.rc = proc.wait()
        finally:
            _stop(proc)
            t_err.join(timeout=2)
        for line in stderr_lines:
            if line.strip():
                self.sink(
                    HostLog(host_of(line), "terraform", line.rstrip(), "warning" if res.rc == 0 else "error")
                )
                if res.rc != 0:
                    res.diagnostics.append(line.strip())
        if self.cancel.is_set():
            raise Cancelled(f"terraform {args[0]} cancelled")
        return res

    def _watch_cancel(self, proc: subprocess.Popen) -> None:
        while proc.poll() is None:
            if self.cancel.wait(0.2):
                self.sink(Error("cancel requested: asking terraform to stop gracefully (state is kept)"))
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGINT)
                return


def _drain(stream, put: Callable[[str], None]) -> None:
    for line in stream:
        put(line)


def _stop(proc: subprocess.Popen, grace: float = 60.0) -> None:
    """Terraform must never be orphaned: SIGINT, wait (it saves state), then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
