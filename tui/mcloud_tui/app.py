"""`mcloud-tui`: the operations console (Textual), one front end of the ops core.

The console runs no deployment logic of its own: it drives the core (`mcloud_tui.ops`) through ONE seam,
the `Operations` protocol below, and renders the typed events (`mcloud_tui.ops.events`) that the core
emits. Tests pass a fake `Operations` with fixed events for snapshots and the real core for the pilot test.

Threading: the core may call the event sink from any thread (Terraform's reader, ansible-runner's event
handler, the health poller). The sink only appends to deques (thread-safe, O(1)); a 50 ms timer on the
event loop drains them and touches widgets. Operations run in `@work` async workers of the group "ops"
and report back through that same sink or through messages; nothing else ever touches a widget.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import DescendantFocus
from textual.message import Message
from textual.widgets import Button, Footer, Log, Static
from textual.worker import get_current_worker

from mcloud_tui.components.header import HeaderState, StatusHeader
from mcloud_tui.components.host_panel import SOURCE_TAGS, HostPanel
from mcloud_tui.components.jobs import JobRow, JobsTable
from mcloud_tui.components.modals import (
    ConfirmModal,
    HelpModal,
    MatmulModal,
    MatmulRequest,
    WanModal,
    WanRequest,
    cost_preview_modal,
    quit_modal,
    teardown_modal,
)
from mcloud_tui.ops.cost import BudgetDecision, Configuration, CostMeter, cloud_equivalent, hourly_rate
from mcloud_tui.ops.events import (
    HOSTS,
    DeploymentInfo,
    Error,
    Event,
    HostHealth,
    HostLog,
    LeaderChanged,
    PhaseFinished,
    PhaseStarted,
    ResourceProgress,
    SmokeStep,
)
from mcloud_tui.ops.pricing import HourlyRate, PricingTable, load_table

FLUSH_INTERVAL_S = 0.05
TICK_INTERVAL_S = 1.0
HEALTH_INTERVAL_S = 1.0
MATMUL_TASK = "matrix_multiply"
FINAL_JOB_STATES = {"done", "failed", "cancelled"}

ConfirmCost = Callable[[HourlyRate], Awaitable[bool]]


@runtime_checkable
class JobsClient(Protocol):
    """The part of control_plane.client.ControlPlaneClient the console uses."""

    async def submit_job(self, type: str, payload: dict, *, cloud: str = "", gpu: bool = False,
                         request_id: str | None = None) -> Any: ...  # fmt: skip

    def watch_jobs(self, include_existing: bool = True) -> AsyncIterator[Any]: ...

    async def close(self) -> None: ...


@runtime_checkable
class Operations(Protocol):
    """The one seam between the console and the ops core: `mcloud_tui.ops.engine.Engine` implements it."""

    target: str

    async def up(self, sink: Callable[[Event], None], *, confirm_cost: ConfirmCost | None = None) -> bool: ...

    async def smoke(self, sink: Callable[[Event], None]) -> bool: ...

    async def down(self, sink: Callable[[Event], None]) -> bool: ...

    async def status(self, sink: Callable[[Event], None]) -> DeploymentInfo | None: ...

    def start_health(self, sink: Callable[[Event], None], interval_s: float = 1.0) -> bool: ...

    def stop_health(self) -> None: ...

    def cancel(self) -> None: ...

    async def control_plane(self) -> JobsClient: ...

    # Optional: `wan_status() -> mcloud_tui.ops.localwan.WanStatus | None` (files only, called every tick);
    # the header shows the WAN emulator when the core has it.


class JobChanged(Message):
    """WatchJobs (or a submit) reported a job; posted by the jobs worker."""

    def __init__(self, job: Any) -> None:
        super().__init__()
        self.job = job


class OpFinished(Message):
    """An operation worker ended (ok False also when it raised)."""

    def __init__(self, op: str, ok: bool, detail: str = "") -> None:
        super().__init__()
        self.op = op
        self.ok = ok
        self.detail = detail


class MCloudApp(App[None]):
    """The operations console."""

    TITLE = "mcloud-tui"
    CSS = """
    Screen { layout: vertical; }
    StatusHeader { height: 2; dock: top; background: $panel; }
    #header-text { width: 1fr; height: 2; }
    #teardown-button { width: auto; min-width: 12; margin: 0 1; }
    #hosts { height: 1fr; }
    HostPanel { width: 1fr; height: 1fr; border: round $primary-darken-1; border-title-style: bold; }
    HostPanel.-leader { border: round $success; border-title-color: $success; }
    HostPanel:focus-within { border: round $accent; }
    .host-info { height: 1; }
    .host-health { height: 2; }
    .host-status { height: 1; background: $boost; }
    HostPanel Input { height: 1; border: none; padding: 0; }
    HostLogView { scrollbar-size-horizontal: 0; }
    #bottom { height: 40%; min-height: 6; }
    #ops-log { width: 1fr; border: round $primary-darken-2; scrollbar-size-horizontal: 0; }
    JobsTable { width: 1fr; border: round $primary-darken-2; }
    #flash { height: 1; background: $boost; }
    """
    BINDINGS = [
        Binding("u", "up", "up"),
        Binding("m", "matmul", "matmul"),
        Binding("s", "smoke", "smoke"),
        Binding("t", "teardown", "teardown"),
        Binding("x", "wan", "cut/heal"),
        Binding("slash", "filter", "filter"),
        Binding("f", "follow", "follow"),
        Binding("w", "save_log", "save log"),
        Binding("question_mark", "help", "help"),
        Binding("ctrl+q", "quit", "quit", priority=True),
    ]

    def __init__(
        self,
        ops: Operations,
        *,
        budget: float | None = None,
        auto_teardown: bool = False,
        clock: Callable[[], float] = time.time,
        max_lines: int = 2000,
        log_dir: Path | None = None,
        pricing: PricingTable | None = None,
        health_interval_s: float = HEALTH_INTERVAL_S,
        animate: bool = True,
        flush_interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        super().__init__()
        self.created_at = time.perf_counter()
        self.first_frame_at: float | None = None  # set when the first frame is on screen (bench reads it)
        self.ops = ops
        self.target = ops.target
        self.clock = clock
        self.max_lines = max_lines
        self.log_dir = log_dir
        self.pricing = pricing or load_table()
        self.health_interval_s = health_interval_s
        self.flush_interval_s = flush_interval_s
        self.meter = CostMeter(budget_usd=budget, auto_teardown=auto_teardown)
        self.header_state = HeaderState(target=self.target, budget=budget, auto_teardown=auto_teardown)
        if self.target == "local":
            self.header_state.equivalent = cloud_equivalent(Configuration("local"), self.pricing)
        self._events: deque[Event] = deque()  # non-log events, any thread -> loop
        self._ops_pending: deque[str] = deque(maxlen=max_lines)
        self.deployment: DeploymentInfo | None = None
        # operations in flight, oldest first (marked before their worker starts)
        self.running_ops: list[str] = []
        self._cost_future: asyncio.Future[bool] | None = None
        self.may_have_resources = False
        self.health: dict[str, HostHealth] = {}
        self.leader_host = ""
        self.smoke_results: list[SmokeStep] = []
        self.jobs: dict[str, Any] = {}
        self.client: JobsClient | None = None
        self._health_on = False
        self._installed: dict[str, ConfirmModal] = {}  # reused confirm modals by id
        self.active_host = HOSTS[0]
        self.notices: list[str] = []  # every "why not" and budget notice (tests read it)
        self.actions_run: list[str] = []  # every key action that ran, in order (tests and the bench read it)
        self.action_times: list[float] = []  # perf_counter() when each of them ran
        self.painted_times: list[float] = []  # ... and when the screen had been refreshed after it
        if not animate:
            self.animation_level = "none"

    # --- layout ---------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Horizontal(id="hosts"):
            for host in HOSTS:
                yield HostPanel(host, max_lines=self.max_lines)
        with Horizontal(id="bottom"):
            ops_log = Log(max_lines=self.max_lines, id="ops-log")
            ops_log.border_title = "operations / smoke"
            yield ops_log
            jobs = JobsTable(id="jobs")
            jobs.border_title = "jobs"
            yield jobs
        yield Static(" ? for help", id="flash")
        yield Footer()

    def on_mount(self) -> None:
        self.panels: dict[str, HostPanel] = {h: self.query_one(f"#panel-{h}", HostPanel) for h in HOSTS}
        self.ops_log = self.query_one("#ops-log", Log)
        self.jobs_table = self.query_one(JobsTable)
        # keep references: while a modal is up, self.query_one() searches the modal, not the main screen
        self.header_widget = self.query_one(StatusHeader)
        self.flash = self.query_one("#flash", Static)
        self.set_interval(self.flush_interval_s, self.drain)
        self.set_interval(TICK_INTERVAL_S, self.tick)
        self.refresh_header()
        self.install_screen(HelpModal(), "help")  # built once, reused: opening it costs one repaint
        self.find_deployment()

    def _ran(self, action: str) -> None:
        self.actions_run.append(action)
        self.action_times.append(time.perf_counter())
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        self.painted_times.append(time.perf_counter())

    def on_ready(self) -> None:
        self.first_frame_at = time.perf_counter()

    # --- the event sink (any thread) -------------------------------------------------------------------
    def sink(self, event: Event) -> None:
        """Receive one core event from any thread: log lines go to bounded per-panel deques."""
        if isinstance(event, HostLog):
            if event.level == "debug":
                return  # as in headless mode without -v
            line = f"{SOURCE_TAGS.get(event.source, event.source)} {event.line}"
            if event.level in ("warning", "error"):
                line = f"{SOURCE_TAGS.get(event.source, event.source)} {event.level.upper()}: {event.line}"
            if event.host in HOSTS:
                self.panels[event.host].push_line(line)
            else:
                self._ops_pending.append(line)
        elif isinstance(event, ResourceProgress):
            line = f"tf {event.address} {event.action} {event.state}"
            if event.elapsed_s:
                line += f" ({event.elapsed_s:.0f}s)"
            if event.host in HOSTS:
                self.panels[event.host].push_line(line)
            else:
                self._ops_pending.append(line)
        else:
            self._events.append(event)

    # --- the loop side: drain, route, render -----------------------------------------------------------
    def drain(self) -> None:
        """Apply queued events and flush every panel in one batch (runs every FLUSH_INTERVAL_S)."""
        while self._events:
            try:
                event = self._events.popleft()
            except IndexError:
                break
            self.handle_event(event)
        # While a modal covers the host panels, writing them only makes every frame of the modal recompose
        # the screen beneath it (the flood's key latency); their bounded buffers keep the newest lines.
        if len(self.screen_stack) == 1:
            for panel in self.panels.values():
                panel.flush()
        batch: list[str] = []
        try:
            for _ in range(len(self._ops_pending)):
                batch.append(self._ops_pending.popleft())
        except IndexError:
            pass
        if batch:
            self.ops_log.write_lines(batch)

    def _ops_line(self, line: str) -> None:
        self._ops_pending.append(line)

    def handle_event(self, event: Event) -> None:
        """Route one non-log event to the header, a panel, or the ops log."""
        hs = self.header_state
        if isinstance(event, PhaseStarted):
            hs.phase, hs.phase_ok = event.phase, None
            self._ops_line(f"==> {event.phase}" + (f": {event.detail}" if event.detail else ""))
        elif isinstance(event, PhaseFinished):
            hs.phase, hs.phase_ok = event.phase, event.ok
            verdict = "ok" if event.ok else "FAILED"
            self._ops_line(f"<== {event.phase} {verdict} ({event.duration_s:.1f}s) {event.detail}".rstrip())
        elif isinstance(event, DeploymentInfo):
            self.apply_deployment(event)
        elif (
            isinstance(event, HostHealth | LeaderChanged) and self.deployment is None and not self.running_ops
        ):
            pass  # a poller's last sample after teardown: the deployment is gone, keep the panels clear
        elif isinstance(event, HostHealth):
            self.health[event.host] = event
            self.panels[event.host].set_health(event, is_leader=event.role == "leader")
        elif isinstance(event, LeaderChanged):
            leader = event.host or event.leader
            if (leader, event.term) != (hs.leader, hs.term):
                self._ops_line(f"leader: {leader or 'none'} (term {event.term})")
            self.leader_host = event.host or ""
            hs.leader, hs.term = leader, event.term
        elif isinstance(event, SmokeStep):
            self.smoke_results.append(event)
            where = event.host or "all"
            verdict = "PASS" if event.ok else "FAIL"
            line = f"{verdict} {event.step:<16} {where:<6} {event.duration_s:.2f}s {event.detail}".rstrip()
            self._ops_line(line)
            if event.host in HOSTS:
                self.panels[event.host].push_line(f"smoke {line}")
        elif isinstance(event, Error):
            msg = f"ERROR: {event.message}" + (f" (hint: {event.hint})" if event.hint else "")
            self._ops_line(f"[{event.host or '*'}] {msg}")
            if event.host in HOSTS:
                self.panels[event.host].push_line(msg)
            self.notify(event.message, title="error", severity="error", timeout=8)
        self.refresh_header()

    def apply_deployment(self, info: DeploymentInfo) -> None:
        """A deployment appeared (up / status from the state file) or vanished (provisioned_at 0)."""
        self.header_state.deployment = info.deployment_name
        if info.provisioned_at:
            self.deployment = info
            self.may_have_resources = True
            config = Configuration.from_deployment(info)
            rate = hourly_rate(config, self.pricing).total
            if not self.meter.running or self.meter.provisioned_at != info.provisioned_at:
                self.meter.start(info.provisioned_at, rate)
            else:
                self.meter.rate_per_hour = rate
            if self.header_state.phase == "idle":
                self.header_state.phase, self.header_state.phase_ok = "running", True
            if info.target == "local":
                self.header_state.equivalent = cloud_equivalent(config, self.pricing)
            for host in HOSTS:
                self.panels[host].set_node(info.hosts.get(host))
            self.start_background()
        else:
            self.forget_deployment()

    def forget_deployment(self) -> None:
        """Nothing is provisioned any more: stop the meter, clear panels and the header's leader."""
        self.meter.stop(self.clock())
        self.deployment = None
        self.may_have_resources = False
        self.health.clear()
        self.leader_host = ""
        self.header_state.leader = ""
        self.header_state.term = 0
        for panel in self.panels.values():
            panel.set_node(None)
            panel.set_health(None)
        self.stop_background()

    def refresh_header(self) -> None:
        now = self.clock()
        hs = self.header_state
        hs.rate = self.meter.rate_per_hour if self.meter.running else 0.0
        hs.accrued = self.meter.accrued(now)
        hs.metering = self.meter.running
        hs.budget_level = self.meter.level(now)
        hs.busy = self.busy is not None
        self.header_widget.show(hs)

    def tick(self) -> None:
        """Once a second: budget decisions, WAN state, header, running jobs' durations."""
        now = self.clock()
        self.poll_wan()
        for decision in self.meter.check(now):
            if decision is BudgetDecision.WARN:
                self.say(f"budget: 80% of {self.meter.budget_usd} USD reached", severity="warning")
            elif decision is BudgetDecision.TEARDOWN:
                self.say("budget: 100% reached, tearing down (--auto-teardown)", severity="error")
                if "teardown" not in self.running_ops:
                    self.start_op("teardown")
        for job in self.jobs.values():
            row = JobRow.from_job(job, now)
            if row.state not in FINAL_JOB_STATES:
                self.jobs_table.upsert(row)
        self.refresh_header()

    def poll_wan(self) -> None:
        """The WAN emulator's state for the header (a state-file read; never fails the tick)."""
        wan_status = getattr(self.ops, "wan_status", None)
        if wan_status is None:
            return
        try:
            self.header_state.wan = wan_status()
        except Exception:  # noqa: BLE001 - a half-written file must not break the console
            self.header_state.wan = None

    def say(self, message: str, *, severity: str = "warning") -> None:
        """Tell the operator why something did not happen (never do nothing silently).

        The reason goes to a fixed one-line flash bar (k9s style) and the ops log: cheaper than a toast
        under a log flood, and it stays readable until the next message.
        """
        self.notices.append(message)
        self._ops_line(f"! {message}")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {message}", style={"error": "bold red", "warning": "yellow"}.get(severity, ""))
        self.flash.update(text, layout=False)
        if severity == "error":
            self.notify(message, severity="error", timeout=8)

    # --- why a key makes no sense now ------------------------------------------------------------------
    @property
    def busy(self) -> str | None:
        """The newest operation in flight (teardown started during up is the one that counts)."""
        return self.running_ops[-1] if self.running_ops else None

    def why_not(self, action: str) -> str | None:
        """The reason an action cannot run in the current state, or None when it can."""
        running = self.running_ops
        if action == "up":
            if running:
                return f"{running[-1]} is running; wait for it to finish"
            if self.deployment is not None:
                return f"already up ({self.deployment.deployment_name}); s smoke-tests it, t tears it down"
        elif action in ("smoke", "matmul"):
            for op in ("teardown", "up"):
                if op in running:
                    return f"{op} is running; wait for it to finish"
            if self.deployment is None:
                return "nothing is deployed: press u first"
            if action == "smoke" and "smoke" in running:
                return "the smoke test is already running"
        elif action == "wan":
            if getattr(self.ops, "partition", None) is None or self.target != "local":
                return "cutting a cloud off needs the local target's WAN emulator"
            if self.deployment is None:
                return "nothing is deployed: press u first"
            wan = self.header_state.wan
            if wan is None or not wan.enabled:
                return "the deployment runs without the WAN emulator (MCLOUD_WAN=off)"
            if not wan.running:
                return "the WAN emulator is not running (see its log under the deployment's wan/ directory)"
        elif action == "teardown":
            if "teardown" in running:
                return "teardown is already running"
            if self.deployment is None and not self.may_have_resources and "up" not in running:
                return "nothing to tear down: no deployment is recorded in the state file"
        return None

    def _refuse(self, action: str) -> bool:
        reason = self.why_not(action)
        if reason:
            self.say(f"{action}: {reason}")
            return True
        return False

    # --- actions ---------------------------------------------------------------------------------------
    def action_up(self) -> None:
        self._ran("up")
        if self._refuse("up"):
            return
        self.start_op("up")

    def action_smoke(self) -> None:
        self._ran("smoke")
        if self._refuse("smoke"):
            return
        self.smoke_results.clear()
        self.start_op("smoke")

    def action_matmul(self) -> None:
        self._ran("matmul")
        if self._refuse("matmul"):
            return

        def submitted(req: MatmulRequest | None) -> None:
            if req is not None:
                self.submit_matmul(req)

        self.push_screen(MatmulModal(), submitted)

    def action_wan(self) -> None:
        self._ran("wan")
        if self._refuse("wan"):
            return
        wan = self.header_state.wan
        partitioned = wan.partitioned if wan is not None else ()

        def chosen(req: WanRequest | None) -> None:
            if req is not None:
                self.change_wan(req)

        self.push_screen(WanModal(partitioned), chosen)

    @work(group="wan", exclusive=True, exit_on_error=False)
    async def change_wan(self, req: WanRequest) -> None:
        """Partition or heal through the core (the same call as `--headless partition|heal`)."""
        try:
            if req.action == "partition":
                status = await self.ops.partition(req.cloud)  # type: ignore[attr-defined]
            else:
                status = await self.ops.heal(req.cloud)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - WanUnavailable / WanError: one line, never a crash
            self.sink(Error(f"wan: {exc}"))
            return
        what = f"cut {req.cloud} off" if req.action == "partition" else f"healed {req.cloud or 'every cloud'}"
        self._ops_line(f"wan: {what}; partitioned now: {', '.join(status.partitioned) or 'none'}")
        self.poll_wan()

    def action_teardown(self) -> None:
        self._ran("teardown")
        if self._refuse("teardown"):
            return
        name = self.deployment.deployment_name if self.deployment else self.header_state.deployment

        def confirmed(ok: bool | None) -> None:
            if ok and self.why_not("teardown") is None:  # re-check: the state may have moved on meanwhile
                self.start_op("teardown")
            elif not ok:
                self._ops_line("teardown cancelled")

        self.push_confirm(teardown_modal(self.target, name, self.meter.rate_per_hour), confirmed)

    def push_confirm(self, fresh: ConfirmModal, callback: Callable[[bool | None], None]) -> None:
        """Show a confirm modal, reusing the mounted one of that kind (its id) when there is one."""
        name = fresh.id or "confirm"
        if name in self._installed:
            self._installed[name].take_content(fresh)
        else:
            self._installed[name] = fresh
            self.install_screen(fresh, name)
        self.push_screen(name, callback)

    @on(Button.Pressed, "#teardown-button")
    def _teardown_button(self) -> None:
        self.action_teardown()

    def action_help(self) -> None:
        self._ran("help")
        self.push_screen("help")

    def action_filter(self) -> None:
        self._ran("filter")
        self.panels[self.active_host].open_filter()

    def action_follow(self) -> None:
        self._ran("follow")
        following = self.panels[self.active_host].toggle_follow()
        self._ops_line(f"{self.active_host} panel: {'following' if following else 'paused'}")

    def action_save_log(self) -> None:
        self._ran("save_log")
        directory = self.log_dir or _default_log_dir()
        try:
            path = self.panels[self.active_host].save(directory)
        except OSError as exc:
            self.say(f"could not save the {self.active_host} log: {exc}", severity="error")
            return
        self.say(f"{self.active_host} log saved to {path}", severity="information")

    async def action_quit(self) -> None:
        self._ran("quit")
        billed = self.meter.running and self.meter.rate_per_hour > 0
        if not billed:
            self.exit()
            return
        name = self.deployment.deployment_name if self.deployment else ""

        def answered(ok: bool | None) -> None:
            if ok:
                self.exit()

        self.push_confirm(quit_modal(name, self.meter.rate_per_hour), answered)

    @on(DescendantFocus)
    def _track_panel(self, event: DescendantFocus) -> None:
        for node in event.widget.ancestors_with_self:
            if isinstance(node, HostPanel):
                self.active_host = node.host
                return

    # --- workers: every operation runs in the "ops" group, reports through the sink -------------------
    def start_op(self, op: str) -> None:
        """Mark the operation as running *before* its worker starts (a second key press already sees it)
        and start the worker. Never cancels another operation's worker: the core runs it on a thread
        that only ops.cancel() can stop."""
        self.running_ops.append(op)
        self.header_state.phase, self.header_state.phase_ok = op, None
        self.refresh_header()
        {"up": self.run_up, "smoke": self.run_smoke, "teardown": self.run_down}[op]()

    async def _report(self, op: str, run: Callable[[], Awaitable[bool]]) -> None:
        """Run one core operation and post its outcome; the console stays up and says what broke."""
        ok, detail = False, ""
        try:
            ok = await run()
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"
        self.post_message(OpFinished(op, ok, detail))

    @work(group="ops", exit_on_error=False)
    async def run_up(self) -> None:
        self.may_have_resources = True

        async def up() -> bool:
            confirm = self.confirm_cost if self.target == "cloud" else None
            ok = await self.ops.up(self.sink, confirm_cost=confirm)
            if ok:
                info = await self.ops.status(self.sink)
                if info is not None:
                    self.sink(info)
            return ok

        await self._report("up", up)

    @work(group="ops", exit_on_error=False)
    async def run_smoke(self) -> None:
        await self._report("smoke", lambda: self.ops.smoke(self.sink))

    @work(group="ops", exit_on_error=False)
    async def run_down(self) -> None:
        running = [w for w in self.workers if w.group == "ops" and w.is_running and w.name != "run_down"
                   and w is not get_current_worker()]  # fmt: skip
        if running:  # teardown during up/smoke: the core stops at its next safe point, then we destroy
            self._ops_line("cancelling the running operation before teardown")
            self.ops.cancel()
            await self.workers.wait_for_complete(running)
        self.stop_background()
        await self._report("teardown", lambda: self.ops.down(self.sink))

    @work(group="ops", exit_on_error=False)
    async def find_deployment(self) -> None:
        """On start: a deployment in the state file is shown and its meter continues."""
        try:
            info = await self.ops.status(self.sink)
        except Exception as exc:
            self.sink(Error(f"could not read the deployment state: {exc}"))
            return
        if info is not None:
            # a state file exists: even a half-provisioned deployment can be torn down
            self.may_have_resources = True
            self.sink(info)

    async def confirm_cost(self, rate: HourlyRate) -> bool:
        """Awaited by the core before a cloud apply: the cost-preview modal's answer."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def answered(ok: bool | None) -> None:
            if not future.done():
                future.set_result(bool(ok))

        self._cost_future = future
        self.push_confirm(cost_preview_modal(rate), answered)
        try:
            return await future
        finally:
            self._cost_future = None

    @on(OpFinished)
    def _op_finished(self, message: OpFinished) -> None:
        self.drain()  # the operation's last events first, so the verdict below is the final word
        if message.op in self.running_ops:
            self.running_ops.remove(message.op)
        if message.detail:
            self.sink(Error(f"{message.op} failed: {message.detail}"))
        if "teardown" in self.running_ops and message.op != "teardown":
            pass  # an up/smoke cancelled for a teardown: the teardown's verdict is the one to show
        elif message.op == "teardown" and message.ok:
            self.forget_deployment()
            self.header_state.phase, self.header_state.phase_ok = "torn down", True
        elif message.op == "up" and not message.ok:
            self.header_state.phase, self.header_state.phase_ok = "up", False
        elif message.op == "smoke":
            passed = sum(s.ok for s in self.smoke_results)
            self._ops_line(f"smoke: {passed}/{len(self.smoke_results)} passed")
            self.header_state.phase, self.header_state.phase_ok = "smoke", message.ok
        self.refresh_header()

    # --- background: health poll + jobs watch while a deployment exists -------------------------------
    def start_background(self) -> None:
        """While a deployment exists: the core's health poller and the jobs watch."""
        if self._health_on:
            return
        try:
            self._health_on = self.ops.start_health(self.sink, self.health_interval_s)
        except Exception as exc:
            self.sink(HostLog(None, "ops", f"health poller failed to start: {exc}", level="warning"))
        self.watch_jobs()

    def stop_background(self) -> None:
        if self._health_on:
            self._health_on = False
            with contextlib.suppress(Exception):
                self.ops.stop_health()
        self.workers.cancel_group(self, "background")
        if self.client is not None:
            client, self.client = self.client, None
            self.close_client(client)

    @work(group="closing", exit_on_error=False)
    async def close_client(self, client: JobsClient) -> None:
        await client.close()

    @work(group="background", exit_on_error=False)
    async def watch_jobs(self) -> None:
        delay = 0.5
        failures = 0
        while self.deployment is not None:
            try:
                if self.client is None:
                    self.client = await self.ops.control_plane()
                async for job in self.client.watch_jobs(include_existing=True):
                    self.post_message(JobChanged(job))
                    delay, failures = 0.5, 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # right after provisioning the secrets and services do not exist yet: say so only when it
                # persists, and once
                failures += 1
                level = "warning" if failures == 4 else "debug"
                self.sink(HostLog(None, "ops", f"jobs watch interrupted: {exc}", level=level))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    @work(group="jobs", exit_on_error=False)
    async def submit_matmul(self, req: MatmulRequest) -> None:
        try:
            if self.client is None:
                self.client = await self.ops.control_plane()
            job = await self.client.submit_job(MATMUL_TASK, {"size": req.size}, cloud=req.cloud)
        except Exception as exc:
            self.sink(Error(f"matmul submit failed: {exc}"))
            return
        self._ops_line(f"submitted matmul {req.size}x{req.size} on {req.cloud or 'any cloud'}: {job.id}")
        self.post_message(JobChanged(job))

    @on(JobChanged)
    def _job_changed(self, message: JobChanged) -> None:
        job = message.job
        self.jobs[job.id] = job
        self.jobs_table.upsert(JobRow.from_job(job, self.clock()))

    async def wait_for_ops(self) -> None:
        """Wait until no operation (up/smoke/teardown/submit) runs; background watchers keep going."""
        running = [w for w in self.workers if w.group in ("ops", "jobs")]
        if running:  # an empty list would mean "every worker", background watchers included
            await self.workers.wait_for_complete(running)
        self.drain()

    async def on_unmount(self) -> None:
        if self._cost_future is not None and not self._cost_future.done():
            self._cost_future.set_result(False)  # the core's thread waits for this answer: release it
        if self.busy is not None:  # quitting mid-operation: the core stops at its next safe point
            with contextlib.suppress(Exception):
                self.ops.cancel()
        if self._health_on:
            with contextlib.suppress(Exception):
                self.ops.stop_health()
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()


def _default_log_dir() -> Path:
    from mcloud_tui.ops.config import state_root

    return state_root() / "logs"


def make_operations(target: str) -> Operations:
    """The real core for a target (honours MCLOUD_STATE_DIR / MCLOUD_LOCAL_HOSTS)."""
    from mcloud_tui.ops.engine import engine_from_env

    return engine_from_env(target)


def run_app(target: str = "local", budget: float | None = None, auto_teardown: bool = False) -> int:
    """Entry point used by `mcloud-tui` (without --headless); returns the exit status."""
    import os

    from mcloud_tui.ops.config import ConfigError

    # gRPC's C core logs to fd 2 (e.g. "skipping fork() handlers" when Ansible forks), which would be
    # drawn over the screen; keep it to errors.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if budget is not None and budget <= 0:
        print(f"mcloud-tui: --budget must be a positive number of USD, got {budget}")
        return 2
    if auto_teardown and budget is None:
        print("mcloud-tui: --auto-teardown needs --budget")
        return 2
    try:
        ops = make_operations(target)
    except ConfigError as exc:
        print(f"mcloud-tui: {exc}")
        return 2
    MCloudApp(ops, budget=budget, auto_teardown=auto_teardown).run()
    return 0
