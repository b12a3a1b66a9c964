"""Typed event vocabulary of the orchestration core (``mcloud_tui.ops``).

Every phase of the core (preflight, plan, provision, inventory, deploy, verify, smoke, teardown) reports
progress only by calling an :class:`EventSink` with one of the frozen dataclasses below; the core never
prints and never imports Textual.  Front ends consume the same stream:

* the headless front end (``mcloud-tui --headless ...``) passes a sink that formats each event as one line
  (:func:`format_event`) and prints it;
* the Textual console passes a *thread-safe* sink (the core may call it from worker threads: Terraform's
  reader thread, ansible-runner's event handler, the health poller) that forwards the event with
  ``app.post_message`` / ``call_from_thread`` and routes it by ``event.host`` to the panel of that VM
  (``None`` = the header / global log).

Events are immutable, hashable and cheap; a sink must return quickly (queue, do not render inline).
``host`` is always one of :data:`HOSTS` or ``None``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias

Host: TypeAlias = Literal["aws", "gcp", "azure"]
HOSTS: tuple[Host, ...] = ("aws", "gcp", "azure")

Phase: TypeAlias = Literal[
    "preflight",
    "plan",
    "provision",
    "inventory",
    "deploy",
    "verify",
    "smoke",
    "teardown",
    "status",
    "partition",
    "heal",
]
Source: TypeAlias = Literal["terraform", "ansible", "service", "ops"]
Level: TypeAlias = Literal["debug", "info", "warning", "error"]
ServiceStatus: TypeAlias = Literal["up", "down", "starting", "unknown", "absent"]


def _now() -> float:
    return time.time()


@dataclass(frozen=True, slots=True)
class PhaseStarted:
    """A phase begins; the header shows it as the current phase."""

    phase: Phase
    detail: str = ""
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class PhaseFinished:
    """A phase ended; ``ok=False`` means the whole operation stops (an :class:`Error` precedes it)."""

    phase: Phase
    ok: bool
    detail: str = ""
    duration_s: float = 0.0
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class HostLog:
    """One log line that concerns one VM (``host``) or the deployment as a whole (``host=None``)."""

    host: Host | None
    source: Source
    line: str
    level: Level = "info"
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ResourceProgress:
    """Terraform progress for one resource (parsed from ``terraform apply -json``).

    ``action`` is Terraform's (create, update, delete, read, noop); ``state`` is ``started``,
    ``progress``, ``complete`` or ``errored``.
    """

    host: Host | None
    address: str
    action: str
    state: Literal["planned", "started", "progress", "complete", "errored"]
    elapsed_s: float = 0.0
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class HostHealth:
    """One health sample of one VM's services, as the poller saw it.

    ``role`` is the control plane's Raft role (leader|follower|candidate) or "" when it is down;
    ``leader`` is the Raft address of the leader this node believes in ("" when none).
    """

    host: Host
    cp: ServiceStatus
    worker: ServiceStatus
    storage: ServiceStatus
    role: str = ""
    term: int = 0
    commit_index: int = 0
    leader: str = ""
    has_quorum: bool = False
    worker_device: str = ""
    worker_state: str = ""
    detail: str = ""
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class LeaderChanged:
    """The leader agreed by the reachable nodes changed (``host``/``leader`` empty: no agreed leader)."""

    host: Host | None
    leader: str
    term: int
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class SmokeStep:
    """One pass/fail line of the smoke test, per step and cloud (``host=None`` for cluster-wide steps)."""

    step: str
    host: Host | None
    ok: bool
    detail: str = ""
    duration_s: float = 0.0
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What the header / panel shows about one provisioned VM."""

    host: Host
    ip: str
    private_ip: str = ""
    instance_type: str = ""
    spot: bool = False
    gpu: bool = False
    region: str = ""


@dataclass(frozen=True, slots=True)
class DeploymentInfo:
    """The deployment as recorded in the state file (emitted after provision and by ``status``).

    ``provisioned_at`` is epoch seconds (the cost meter starts there); 0 when nothing is provisioned.
    """

    target: Literal["local", "cloud"]
    deployment_name: str
    hosts: Mapping[str, NodeInfo]
    provisioned_at: float
    ts: float = field(default_factory=_now)

    def __hash__(self) -> int:  # Mapping is not hashable; identity of a snapshot is enough
        return hash((self.target, self.deployment_name, self.provisioned_at, self.ts))


@dataclass(frozen=True, slots=True)
class Error:
    """A failure the operator must see, with the host it concerns (None = global) and what to do."""

    message: str
    host: Host | None = None
    hint: str = ""
    ts: float = field(default_factory=_now)


Event: TypeAlias = (
    PhaseStarted
    | PhaseFinished
    | HostLog
    | ResourceProgress
    | HostHealth
    | LeaderChanged
    | SmokeStep
    | DeploymentInfo
    | Error
)


class EventSink(Protocol):
    """Receives every event of the core; may be called from any thread, must return quickly."""

    def __call__(self, event: Event, /) -> None: ...


def null_sink(event: Event, /) -> None:
    """A sink that drops everything (for callers that only want the return value)."""


class ListSink:
    """A sink that records events (tests, and front ends that batch)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event, /) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        """The recorded events of one type, in order."""
        return [e for e in self.events if isinstance(e, kind)]


def format_event(event: Event) -> str:
    """One human line per event (the headless front end prints exactly this)."""
    tag = lambda h: f"[{h}]" if h else "[*]"  # noqa: E731
    match event:
        case PhaseStarted(phase=p, detail=d):
            return f"==> {p}" + (f": {d}" if d else "")
        case PhaseFinished(phase=p, ok=ok, detail=d, duration_s=s):
            return f"<== {p} {'ok' if ok else 'FAILED'} ({s:.1f}s)" + (f": {d}" if d else "")
        case HostLog(host=h, source=src, line=line, level=lvl):
            mark = "" if lvl in ("info", "debug") else f" {lvl.upper()}"
            return f"{tag(h):8} {src}{mark}: {line}"
        case ResourceProgress(host=h, address=a, action=act, state=st, elapsed_s=el):
            return f"{tag(h):8} terraform: {a} {act} {st}" + (f" ({el:.0f}s)" if el else "")
        case HostHealth() as hh:
            raft = f" role={hh.role} term={hh.term} commit={hh.commit_index}" if hh.role else ""
            return f"{tag(hh.host):8} health: cp={hh.cp} worker={hh.worker} storage={hh.storage}{raft}"
        case LeaderChanged(host=h, leader=lead, term=t):
            return f"{tag(h):8} leader: {lead or 'none'} (term {t})"
        case SmokeStep(step=st, host=h, ok=ok, detail=d, duration_s=s):
            return f"{tag(h):8} smoke {st}: {'PASS' if ok else 'FAIL'} ({s:.2f}s)" + (f" {d}" if d else "")
        case DeploymentInfo(target=t, deployment_name=n, hosts=hs, provisioned_at=pa):
            nodes = " ".join(f"{k}={v.ip}" for k, v in hs.items())
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(pa)) if pa else "-"
            return f"[*]      deployment {n} target={t} {nodes} provisioned_at={when}"
        case Error(message=m, host=h, hint=hint):
            return f"{tag(h):8} ERROR: {m}" + (f" (hint: {hint})" if hint else "")
    return repr(event)
