"""Ansible through ansible-runner, with an event handler that turns every task result into a HostLog on
the host it concerns (inventory host names are the cloud names: aws, gcp, azure).

``run`` blocks (call it from a worker thread); cancel is honoured through runner's cancel_callback, which
terminates ansible-playbook. Artifacts live under ``<state>/<target>/ansible`` and are rotated.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import TargetConfig
from .events import EventSink, HostLog
from .hostmap import host_of

_MAX_LINES_PER_FIELD = 40


@dataclass
class PlaybookResult:
    status: str  # successful | failed | canceled | timeout
    rc: int
    changed: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    failed_hosts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            out += _lines(v)
        return out
    return [ln for ln in str(value).splitlines() if ln.strip()]


def events_from_runner(event: Mapping[str, Any]) -> list[HostLog]:
    """Map one ansible-runner event to HostLog lines (pure; unit-tested)."""
    kind = event.get("event", "")
    data = event.get("event_data") or {}
    host = host_of(data.get("host") or data.get("remote_addr"))
    task = str(data.get("task") or data.get("name") or "").strip()
    res = data.get("res") or {}
    if kind == "playbook_on_play_start":
        return [HostLog(None, "ansible", f"PLAY {data.get('play', '')}")]
    if kind == "playbook_on_task_start":
        return [HostLog(None, "ansible", f"TASK {task}", "debug")]
    if kind in ("runner_on_ok", "runner_item_on_ok"):
        if kind == "runner_on_ok" and isinstance(res.get("results"), list) and res["results"]:
            return []  # the loop's summary: every item was already reported on its own line
        changed = bool(res.get("changed"))
        item = f" ({res['item']})" if "item" in res and kind == "runner_item_on_ok" else ""
        out = [HostLog(host, "ansible", f"{'changed' if changed else 'ok'}: {task}{item}")]
        msg = res.get("msg")
        if data.get("task_action") in ("debug", "ansible.builtin.debug") and msg:
            out += [HostLog(host, "ansible", f"  {ln}") for ln in _lines(msg)[:_MAX_LINES_PER_FIELD]]
        return out
    if kind in ("runner_on_skipped", "runner_item_on_skipped"):
        return [HostLog(host, "ansible", f"skipped: {task}", "debug")]
    if kind in ("runner_on_failed", "runner_item_on_failed", "runner_on_unreachable"):
        ignored = bool(data.get("ignore_errors"))
        lvl = "warning" if ignored else "error"
        what = "unreachable" if kind == "runner_on_unreachable" else "failed"
        out = [HostLog(host, "ansible", f"{what}{' (ignored)' if ignored else ''}: {task}", lvl)]
        seen: set[str] = set()
        keys = ("msg",) if res.get("results") else ("msg", "stderr", "stdout", "module_stderr")
        for key in keys:
            for ln in _lines(res.get(key))[-_MAX_LINES_PER_FIELD:]:
                if ln not in seen:
                    seen.add(ln)
                    out.append(
                        HostLog(host, "service" if key in ("stderr", "msg") else "ansible", f"  {ln}", lvl)
                    )
        return out
    if kind == "playbook_on_stats":
        out = []
        for h in sorted(set(data.get("ok", {})) | set(data.get("failures", {})) | set(data.get("dark", {}))):
            out.append(
                HostLog(
                    host_of(h),
                    "ansible",
                    f"recap: ok={data.get('ok', {}).get(h, 0)} changed={data.get('changed', {}).get(h, 0)} "
                    f"failed={data.get('failures', {}).get(h, 0)} unreachable={data.get('dark', {}).get(h, 0)}",
                )
            )
        return out
    return []


def run_playbook(
    cfg: TargetConfig,
    playbook: str,
    inventory: Path,
    sink: EventSink,
    *,
    extravars: Mapping[str, Any] | None = None,
    cancel: threading.Event | None = None,
) -> PlaybookResult:
    """Run ``ansible/playbooks/<playbook>`` against ``inventory``; stream events; return the recap."""
    import ansible_runner  # deferred: importing it costs ~0.3 s and only deploy/teardown need it

    cancel = cancel or threading.Event()
    cfg.runner_dir.mkdir(parents=True, exist_ok=True)
    stats: dict[str, Any] = {}
    seen = {"tasks": 0}

    def handler(event: dict[str, Any]) -> bool:
        if str(event.get("event", "")).startswith("runner_on_"):
            seen["tasks"] += 1
        if event.get("event") == "playbook_on_stats":
            stats.update(event.get("event_data") or {})
        for ev in events_from_runner(event):
            sink(ev)
        return False  # do not keep the event JSON files: artifacts stay small

    bindir = Path(sys.executable).parent  # ansible-playbook of this venv first
    envvars = {
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": cfg.python_path(),
        "MCLOUD_STATE_DIR": str(cfg.state_dir),
        "ANSIBLE_ROLES_PATH": str(cfg.repo / "ansible" / "roles"),
        "ANSIBLE_HOST_KEY_CHECKING": "False" if cfg.target == "local" else "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
    }
    cfg_file = cfg.repo / "ansible" / "ansible.cfg"
    if cfg_file.exists():
        envvars["ANSIBLE_CONFIG"] = str(cfg_file)
    xv: dict[str, Any] = {
        "mcloud_state_dir": str(cfg.state_dir),
        "mcloud_repo_dir": str(cfg.repo),
        "mcloud_python": cfg.python,
    }
    if cfg.target == "local":
        xv["ansible_python_interpreter"] = cfg.python
    xv.update(extravars or {})
    r = ansible_runner.run(
        private_data_dir=str(cfg.runner_dir),
        playbook=str(cfg.playbooks / playbook),
        inventory=str(inventory),
        extravars=xv,
        envvars=envvars,
        event_handler=handler,
        cancel_callback=cancel.is_set,
        quiet=True,
        rotate_artifacts=5,
        suppress_env_files=True,
    )
    if not seen["tasks"] and r.status == "failed":  # died before any task: usage error, bad inventory...
        try:
            tail = r.stdout.read().splitlines()[-20:]
        except (OSError, AttributeError, ValueError):
            tail = []
        for line in tail:
            if line.strip():
                sink(HostLog(host_of(line), "ansible", line.rstrip(), "error"))
    failures = dict(stats.get("failures") or {})
    for h, n in (stats.get("dark") or {}).items():
        failures[h] = failures.get(h, 0) + n
    return PlaybookResult(
        status=str(r.status),
        rc=int(r.rc if r.rc is not None else -1),
        changed=dict(stats.get("changed") or {}),
        failures=failures,
        failed_hosts=sorted(h for h, n in failures.items() if n),
    )
