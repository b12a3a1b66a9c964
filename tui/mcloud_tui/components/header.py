"""Header: target, phase, Raft leader, WAN emulator, and the cost meter ($/h, $ so far, budget).

WAN (local target): ``wan 10/30/35ms`` = RTTs of aws-azure / aws-gcp / gcp-azure (pair names in alphabetical
order), ``gcp CUT`` for each partitioned cloud, ``wan off`` (MCLOUD_WAN=off), ``wan DOWN`` (emulator died).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from mcloud_tui.ops.cost import BudgetLevel, CloudEquivalent, format_rate, format_usd
from mcloud_tui.ops.localwan import WanStatus


@dataclass
class HeaderState:
    """Everything the header shows; the app fills it, the header only renders it."""

    target: str = "local"
    deployment: str = ""
    phase: str = "idle"
    phase_ok: bool | None = None  # None while running
    busy: bool = False
    leader: str = ""
    term: int = 0
    rate: float = 0.0
    accrued: float = 0.0
    metering: bool = False
    equivalent: CloudEquivalent | None = None  # local target: what the clouds would charge
    budget: float | None = None
    budget_level: BudgetLevel = BudgetLevel.NONE
    auto_teardown: bool = False
    wan: WanStatus | None = None  # None: not shown (cloud target, nothing deployed)


class StatusHeader(Horizontal):
    """Two text lines and the teardown button (it does what `t` does)."""

    def compose(self) -> ComposeResult:
        yield Static(id="header-text")
        yield Button("Teardown", id="teardown-button", variant="error", compact=True)

    def show(self, s: HeaderState) -> None:
        line1 = Text(no_wrap=True, overflow="ellipsis")
        line1.append(" mcloud ", style="bold reverse")
        line1.append(f" {s.target}", style="bold cyan")
        if s.deployment:
            line1.append(f" {s.deployment}", style="grey70")
        line1.append("  phase ")
        if s.busy:
            line1.append(f"{s.phase}…", style="bold yellow")
        elif s.phase_ok is False:
            line1.append(f"{s.phase} FAILED", style="bold red")
        else:
            line1.append(s.phase, style="bold")
        line1.append("  leader ")
        if s.leader:
            line1.append(s.leader, style="bold green")
            line1.append(f" (term {s.term})")
        else:
            line1.append("none", style="grey50")

        line2 = Text(no_wrap=True, overflow="ellipsis")
        line2.append(" cost ")
        line2.append(format_rate(s.rate), style="bold")
        line2.append(" · ")
        line2.append(format_usd(s.accrued), style="bold")
        line2.append(" so far" if s.metering else " (meter stopped)")
        if s.wan is not None:
            line2.append("  wan ")
            if not s.wan.enabled:
                line2.append("off", style="grey50")
            elif not s.wan.running:
                line2.append("DOWN", style="bold red")
            else:
                line2.append(s.wan.rtts_text, style="bold")
            for cloud in s.wan.partitioned:
                line2.append(f" {cloud} CUT", style="bold red")
        if s.equivalent is not None:
            line2.append(
                f"  clouds: {format_rate(s.equivalent.on_demand)} (spot {format_rate(s.equivalent.spot)})",
                style="grey70",
            )
        if s.budget is not None:
            style = {BudgetLevel.WARN: "bold yellow", BudgetLevel.EXCEEDED: "bold red"}.get(
                s.budget_level, ""
            )
            pct = f"{100 * s.accrued / s.budget:.0f}%"
            line2.append(f"  budget {format_usd(s.budget)} {pct}", style=style)
            if s.auto_teardown:
                line2.append(" auto-teardown", style="grey70")
        text = Text("\n", no_wrap=True, overflow="ellipsis").join([line1, line2])  # never wrap: 2 lines
        self.query_one("#header-text", Static).update(text, layout=False)  # fixed 2 lines: no reflow
