"""One panel per VM: what the host is, its health and Raft state, and its Terraform/Ansible lines.

Log lines arrive from any thread at any rate. They are appended to a bounded pending deque (thread-safe,
lossless for what can be shown: the panel never keeps more than `max_lines` anyway) and the app flushes
every panel in one batch on a timer (k9s flushes every 50 ms); a flood therefore costs one repaint per
tick, never one per line (textual issue 2187).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Log, Static

from mcloud_tui.ops.events import HostHealth, NodeInfo

HOST_TITLES = {"aws": "AWS", "gcp": "GCP", "azure": "Azure"}
SOURCE_TAGS = {"terraform": "tf", "ansible": "an", "service": "sv", "ops": "op"}
STATUS_MARKS = {"up": ("●", "green"), "starting": ("◐", "yellow"), "down": ("●", "red"),
                "unknown": ("○", "grey50"), "absent": ("·", "grey50")}  # fmt: skip


class HostLogView(Log):
    """The panel's log: a plain-string Log (renders visible lines only)."""

    DEFAULT_CSS = "HostLogView { height: 1fr; scrollbar-size-vertical: 1; }"


class HostPanel(Vertical, can_focus=False):
    """AWS / GCP / Azure panel: identity, health, Raft, live log with follow/pause, filter and save."""

    BINDINGS = [
        Binding("escape", "clear_filter", "clear filter", show=False),
    ]

    def __init__(self, host: str, *, max_lines: int = 2000) -> None:
        super().__init__(id=f"panel-{host}", classes="host-panel")
        self.host = host
        self.max_lines = max_lines
        self.pending: deque[str] = deque(maxlen=max_lines)  # written by any thread, drained by flush()
        self.lines: deque[str] = deque(maxlen=max_lines)  # everything shown or filtered out, bounded
        self.received = 0  # lines ever handed to this panel (the bench reads it)
        self.filter_text = ""
        self.follow = True
        self.node: NodeInfo | None = None
        self.health: HostHealth | None = None
        self.is_leader = False
        self._ready = False
        self._last_status = ""
        self.border_title = HOST_TITLES.get(host, host)

    def compose(self) -> ComposeResult:
        yield Static(id=f"info-{self.host}", classes="host-info")
        yield Static(id=f"health-{self.host}", classes="host-health")
        yield HostLogView(max_lines=self.max_lines, auto_scroll=True, id=f"log-{self.host}")
        flt = Input(placeholder="filter (enter: apply, esc: clear)", id=f"filter-{self.host}")
        flt.display = False
        yield flt
        yield Static(id=f"status-{self.host}", classes="host-status")

    def on_mount(self) -> None:
        self._ready = True  # is_mounted is still False while on_mount runs
        self.refresh_info()
        self.refresh_status()

    @property
    def log_view(self) -> HostLogView:
        return self.query_one(HostLogView)

    # --- data in (any thread for push_line; loop only for the rest) ---------------------------------
    def push_line(self, line: str) -> None:
        """Queue one line; safe from any thread, O(1), bounded."""
        self.pending.append(line)

    def flush(self) -> int:
        """Move pending lines to the log in one write (loop only). Returns how many lines moved."""
        batch: list[str] = []
        pop = self.pending.popleft
        try:
            for _ in range(len(self.pending)):
                batch.append(pop())
        except IndexError:  # a writer's append on the full deque dropped the oldest under us
            pass
        if not batch:
            return 0
        self.received += len(batch)
        self.lines.extend(batch)
        shown = batch if not self.filter_text else [s for s in batch if self._match(s)]
        if len(shown) > self.max_lines:
            shown = shown[-self.max_lines :]
        if shown:
            self.log_view.write_lines(shown)
        self.refresh_status()
        return len(batch)

    def set_node(self, node: NodeInfo | None) -> None:
        self.node = node
        self.refresh_info()

    def set_health(self, health: HostHealth | None, *, is_leader: bool = False) -> None:
        self.health = health
        self.is_leader = is_leader
        self.refresh_info()

    # --- rendering ------------------------------------------------------------------------------------
    def refresh_info(self) -> None:
        if not self._ready:
            return
        n = self.node
        info = Text(no_wrap=True, overflow="ellipsis")
        if n is None:
            info.append("not provisioned", style="grey50")
        else:
            info.append(n.ip or "-", style="bold")
            info.append(f"  {n.instance_type or '-'}")
            info.append("  spot" if n.spot else "  on-demand", style="yellow" if n.spot else "")
            info.append("  GPU" if n.gpu else "  CPU", style="magenta" if n.gpu else "")
        self.query_one(f"#info-{self.host}", Static).update(info, layout=False)  # fixed height: no reflow

        h = self.health
        health = Text(no_wrap=True, overflow="ellipsis")
        for label, status in (
            ("cp", h.cp if h else "unknown"),
            ("worker", h.worker if h else "unknown"),
            ("storage", h.storage if h else "unknown"),
        ):
            mark, style = STATUS_MARKS.get(status, ("?", "grey50"))
            health.append(f"{label} ")
            health.append(mark, style=style)
            health.append(" ")
        health.append("\n")
        if h is not None and h.role:
            role_style = "bold green" if h.role == "leader" else ("yellow" if h.role == "candidate" else "")
            health.append(h.role, style=role_style)
            health.append(f" t{h.term} c{h.commit_index}")
            if h.worker_device:
                health.append(f" {h.worker_device}")
        else:
            health.append("raft -", style="grey50")
        self.query_one(f"#health-{self.host}", Static).update(health, layout=False)
        self.set_class(self.is_leader, "-leader")
        title = HOST_TITLES.get(self.host, self.host)
        self.border_title = f"{title} ★ leader" if self.is_leader else title

    def refresh_status(self) -> None:
        if not self._ready:
            return
        log = self.log_view
        following = self.follow and (log.is_vertical_scroll_end or log.max_scroll_y == 0)
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append("FOLLOW" if following else "PAUSED", style="bold green" if following else "bold yellow")
        status.append(f" {log.line_count}")
        if self.filter_text:
            status.append(f" /{self.filter_text}", style="cyan")
        if status.plain != self._last_status:
            self._last_status = status.plain
            self.query_one(f"#status-{self.host}", Static).update(status, layout=False)

    # --- follow / filter / save -----------------------------------------------------------------------
    def toggle_follow(self) -> bool:
        """Pause or resume following; resuming jumps to the newest line."""
        self.follow = not self.follow
        log = self.log_view
        log.auto_scroll = self.follow
        if self.follow:
            log.scroll_end(animate=False)
        self.refresh_status()
        return self.follow

    def open_filter(self) -> None:
        flt = self.query_one(f"#filter-{self.host}", Input)
        flt.value = self.filter_text
        flt.display = True
        flt.focus()

    def _match(self, line: str) -> bool:
        return self.filter_text.lower() in line.lower()

    def apply_filter(self, text: str) -> None:
        """Show only the kept lines containing `text` (case-insensitive); empty shows everything."""
        self.filter_text = text.strip()
        log = self.log_view
        log.clear()
        kept: Iterable[str] = (
            self.lines if not self.filter_text else (s for s in self.lines if self._match(s))
        )
        log.write_lines(list(kept), scroll_end=True)
        self.refresh_status()

    @on(Input.Submitted)
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filter(event.value)
        event.input.display = False
        self.log_view.focus()

    def action_clear_filter(self) -> None:
        flt = self.query_one(f"#filter-{self.host}", Input)
        flt.display = False
        self.apply_filter("")
        self.log_view.focus()

    def save(self, directory: Path, now: float | None = None) -> Path:
        """Write every kept line (unfiltered) to `<directory>/<host>-<timestamp>.log` and return the path."""
        directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
        path = directory / f"{self.host}-{stamp}.log"
        n = 1
        while path.exists():
            path = directory / f"{self.host}-{stamp}-{n}.log"
            n += 1
        path.write_text("".join(f"{line}\n" for line in self.lines))
        return path
