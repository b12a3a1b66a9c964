"""Modal screens: teardown confirm, cost preview, quit warning, help, matmul form.

Every modal returns its answer through `dismiss(...)`; the app pushes them with a callback (or awaits a
future from a worker), so no modal ever runs an operation itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from mcloud_tui.ops.cost import format_rate
from mcloud_tui.ops.pricing import HourlyRate


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question; `escape` and the cancel button answer no."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel", show=False),
        Binding("y", "confirm", "yes", show=False),
        Binding("n", "cancel", "no", show=False),
    ]
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical {
        width: 72; max-width: 95%; height: auto; max-height: 95%;
        border: thick $error; background: $surface; padding: 1 2;
    }
    ConfirmModal .modal-title { text-style: bold; margin-bottom: 1; }
    ConfirmModal .modal-body { height: auto; max-height: 20; }
    ConfirmModal Horizontal { height: auto; align: right middle; margin-top: 1; }
    ConfirmModal Button { margin-left: 2; }
    """

    def __init__(self, title: str, body: Text | Table | Group | str, confirm_label: str, *,
                 cancel_label: str = "Cancel", variant: str = "error", modal_id: str = "") -> None:  # fmt: skip
        super().__init__(id=modal_id or None)
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        self.variant = variant

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="modal-title")
            yield Static(self.body, classes="modal-body")
            with Horizontal():
                yield Button(self.cancel_label, id="cancel")
                yield Button(self.confirm_label, id="confirm", variant=self.variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe answer is the default one

    def on_screen_resume(self) -> None:
        self.query_one("#cancel", Button).focus()  # also when a reused (installed) modal is shown again

    def take_content(self, other: ConfirmModal) -> None:
        """Show another (unmounted) modal's question: the app reuses one mounted modal per kind, which
        makes opening it a repaint instead of a compose + CSS pass (~100 ms on 2 cores)."""
        same = (
            (other.title_text, other.confirm_label, other.cancel_label, other.variant)
            == (self.title_text, self.confirm_label, self.cancel_label, self.variant)
            and isinstance(other.body, Text)
            and isinstance(self.body, Text)
            and other.body.markup == self.body.markup
        )
        if same:  # nothing to redraw: the reopen costs one repaint
            return
        self.title_text, self.body = other.title_text, other.body
        self.confirm_label, self.cancel_label, self.variant = (
            other.confirm_label,
            other.cancel_label,
            other.variant,
        )
        if self.is_mounted:
            self.query_one(".modal-title", Label).update(self.title_text)
            self.query_one(".modal-body", Static).update(self.body)
            confirm = self.query_one("#confirm", Button)
            confirm.label, confirm.variant = self.confirm_label, self.variant  # type: ignore[assignment]
            self.query_one("#cancel", Button).label = self.cancel_label

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


def teardown_modal(target: str, deployment: str, rate: float) -> ConfirmModal:
    """`t` / the Teardown button: destroy everything of the deployment."""
    body = Text()
    body.append("This stops every service and destroys ")
    body.append(f"{deployment or 'the deployment'}", style="bold")
    body.append(f" on the {target} target")
    if target == "cloud":
        body.append(" (Ansible teardown, then terraform destroy; state must end empty)")
    body.append(".\n")
    if rate > 0:
        body.append(f"Billing of {format_rate(rate)} stops when it is done.\n")
    body.append("Running jobs are lost.", style="yellow")
    return ConfirmModal("Tear down the deployment?", body, "Tear down", modal_id="teardown-modal")


def cost_table(rate: HourlyRate) -> Table:
    """The itemised $/h of what `terraform apply` will create, with source dates."""
    table = Table(box=None, pad_edge=False, expand=True)
    table.add_column("cloud")
    table.add_column("item")
    table.add_column("$/h", justify="right")
    table.add_column("as of", style="grey70")
    for line in rate.lines:
        table.add_row(line.cloud, line.label, f"{line.usd_per_hour:.4f}", line.as_of)
    table.add_row("", Text("total", style="bold"), Text(f"{rate.total:.4f}", style="bold"), "")
    return table


def cost_preview_modal(rate: HourlyRate) -> ConfirmModal:
    """Before a cloud apply: the hourly cost of what will be created, and proceed / cancel."""
    note = Text(
        "\nFigures from mcloud_tui/ops/pricing.json (each with its source); spot prices move daily."
        " Inter-cloud egress is billed per GB on top.",
        style="grey70",
    )
    modal = ConfirmModal(
        f"Create these resources for {format_rate(rate.total)}?",
        Group(cost_table(rate), note),
        "Create",
        cancel_label="Cancel",
        variant="warning",
        modal_id="cost-modal",
    )
    return modal


def quit_modal(deployment: str, rate: float) -> ConfirmModal:
    """ctrl+q while the deployment is still billed."""
    body = Text()
    body.append(f"{deployment or 'The deployment'} is still running and billed at ")
    body.append(format_rate(rate), style="bold")
    body.append(".\nQuitting leaves it running; reopening the console finds it and continues the meter.\n")
    body.append("Press t first to tear it down.", style="yellow")
    return ConfirmModal("Quit while resources are billed?", body, "Quit anyway", modal_id="quit-modal")


HELP_TEXT = """\
[b]u[/]  up: provision + deploy + verify (cloud: cost preview first)
[b]m[/]  start a matmul (size, cloud)
[b]s[/]  smoke test: pass/fail per step and cloud
[b]t[/]  tear down (asks first; the Teardown button does the same)
[b]x[/]  cut a cloud off / heal it (local target, WAN emulator)
[b]/[/]  filter the focused panel (enter applies, esc clears)
[b]f[/]  follow / pause the focused panel
[b]w[/]  save the focused panel's log to a file
[b]tab[/]  next panel / table
[b]?[/]  this help
[b]ctrl+q[/]  quit (warns while the deployment is billed)
"""


class HelpModal(ModalScreen[None]):
    """The keys, in one place."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "close", show=False)]
    DEFAULT_CSS = """
    HelpModal { align: center middle; }
    HelpModal > Vertical { width: 70; max-width: 95%; height: auto; border: thick $primary;
                           background: $surface; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]mcloud-tui keys[/]")
            yield Static(HELP_TEXT)
            yield Button("Close", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class MatmulRequest:
    """What the matmul form asks the control plane for."""

    size: int
    cloud: str  # "" = any


MAX_MATMUL_SIZE = 16384


class MatmulModal(ModalScreen[MatmulRequest | None]):
    """A small form: matrix size and placement cloud."""

    BINDINGS = [Binding("escape", "cancel", "cancel", show=False)]
    DEFAULT_CSS = """
    MatmulModal { align: center middle; }
    MatmulModal > Vertical { width: 50; max-width: 95%; height: auto; border: thick $primary;
                             background: $surface; padding: 1 2; }
    MatmulModal Horizontal { height: auto; align: right middle; margin-top: 1; }
    MatmulModal #matmul-error { color: $error; height: auto; }
    """

    def __init__(self, clouds: tuple[str, ...] = ("aws", "gcp", "azure"), size: int = 512) -> None:
        super().__init__(id="matmul-modal")
        self.clouds = clouds
        self.default_size = size

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Start a matmul[/]")
            yield Label("size (n for an n×n matrix)")
            yield Input(str(self.default_size), id="matmul-size", type="integer")
            yield Label("cloud")
            options = [("any", "")] + [(c, c) for c in self.clouds]
            yield Select(options, value="", allow_blank=False, id="matmul-cloud")
            yield Static("", id="matmul-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="start", variant="primary")

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def submit(self) -> None:
        raw = self.query_one("#matmul-size", Input).value.strip()
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_MATMUL_SIZE:
            self.query_one("#matmul-error", Static).update(f"size must be 1..{MAX_MATMUL_SIZE}, got {raw!r}")
            return
        cloud = self.query_one("#matmul-cloud", Select).value
        self.dismiss(MatmulRequest(size=size, cloud=cloud if isinstance(cloud, str) else ""))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class WanRequest:
    """Cut one cloud off through the WAN emulator, or heal one (cloud None: every cloud)."""

    action: str  # "partition" | "heal"
    cloud: str | None


class WanModal(ModalScreen[WanRequest | None]):
    """Fail a cloud on purpose and watch Raft react: one button per cloud (cut, or heal when cut)."""

    BINDINGS = [Binding("escape", "cancel", "cancel", show=False)]
    DEFAULT_CSS = """
    WanModal { align: center middle; }
    WanModal > Vertical { width: 56; max-width: 95%; height: auto; border: thick $warning;
                          background: $surface; padding: 1 2; }
    WanModal Horizontal { height: auto; margin-top: 1; }
    WanModal Button { margin-right: 1; }
    """

    def __init__(
        self, partitioned: tuple[str, ...], clouds: tuple[str, ...] = ("aws", "gcp", "azure")
    ) -> None:
        super().__init__(id="wan-modal")
        self.partitioned = partitioned
        self.clouds = clouds

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]WAN emulator[/]: cut a cloud off, or heal it")
            cut = ", ".join(self.partitioned) or "none"
            yield Label(f"partitioned now: {cut}")
            with Horizontal():
                for cloud in self.clouds:
                    if cloud in self.partitioned:
                        yield Button(f"heal {cloud}", id=f"heal-{cloud}", variant="success")
                    else:
                        yield Button(f"cut {cloud}", id=f"cut-{cloud}", variant="warning")
            with Horizontal():
                yield Button("heal all", id="heal-all", disabled=not self.partitioned)
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button == "cancel":
            self.dismiss(None)
        elif button == "heal-all":
            self.dismiss(WanRequest("heal", None))
        elif button.startswith("cut-"):
            self.dismiss(WanRequest("partition", button.removeprefix("cut-")))
        elif button.startswith("heal-"):
            self.dismiss(WanRequest("heal", button.removeprefix("heal-")))

    def action_cancel(self) -> None:
        self.dismiss(None)
