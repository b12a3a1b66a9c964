"""UI-free cost meter: $/h of a configuration, $ accrued since provisioning, budget decisions.

The meter is a pure function of (rate, provisioned_at, now): it keeps no running total, so a console that
is closed and reopened (it reads provisioned_at back from the deployment state file) shows the same
figure as one that never closed, and the clouds keep billing while nobody watches. The clock is always
passed in, which keeps tests and snapshots deterministic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

from mcloud_tui.ops.events import DeploymentInfo
from mcloud_tui.ops.pricing import HourlyRate, NodeSpec, PricingTable, load_table

WARN_FRACTION = 0.8


@dataclass(frozen=True)
class Configuration:
    """What is (or will be) running: the target, and for the cloud target GPU/spot or the exact nodes."""

    target: Literal["local", "cloud"]
    gpu: bool = False
    spot: bool = False
    nodes: tuple[NodeSpec, ...] = ()

    @classmethod
    def from_deployment(cls, info: DeploymentInfo) -> Configuration:
        """The configuration a provisioned deployment actually has (Terraform's `nodes` output)."""
        nodes = tuple(
            NodeSpec(cloud=h, instance_type=n.instance_type, spot=n.spot, gpu=n.gpu)
            for h, n in info.hosts.items()
        )
        return cls(
            target=info.target,
            gpu=any(n.gpu for n in nodes),
            spot=bool(nodes) and all(n.spot for n in nodes),
            nodes=nodes if info.target == "cloud" else (),
        )


def hourly_rate(config: Configuration, table: PricingTable | None = None) -> HourlyRate:
    """$/h billed for a configuration: nothing for the local target, the priced nodes for the cloud."""
    if config.target == "local":
        return HourlyRate(())
    table = table or load_table()
    if config.nodes:
        return table.rate_for_nodes(list(config.nodes))
    return table.rate_for(gpu=config.gpu, spot=config.spot)


@dataclass(frozen=True)
class CloudEquivalent:
    """What the same configuration would cost per hour on the three clouds (shown for the local target)."""

    on_demand: float
    spot: float


def cloud_equivalent(config: Configuration, table: PricingTable | None = None) -> CloudEquivalent:
    """$/h of this configuration's GPU choice on the clouds, on-demand and spot."""
    table = table or load_table()
    return CloudEquivalent(
        on_demand=table.rate_for(gpu=config.gpu, spot=False).total,
        spot=table.rate_for(gpu=config.gpu, spot=True).total,
    )


class BudgetLevel(enum.Enum):
    """Where accrual stands against the budget."""

    NONE = "none"  # no budget set
    OK = "ok"
    WARN = "warn"  # >= 80 %
    EXCEEDED = "exceeded"  # >= 100 %


class BudgetDecision(enum.Enum):
    """What the front end must do, each returned once by CostMeter.check()."""

    WARN = "warn"
    TEARDOWN = "teardown"


@dataclass
class CostMeter:
    """Accrued cost of one deployment; `provisioned_at=None` means nothing is provisioned (meter idle)."""

    rate_per_hour: float = 0.0
    provisioned_at: float | None = None
    budget_usd: float | None = None
    auto_teardown: bool = False
    stopped_at: float | None = None
    warn_fraction: float = WARN_FRACTION
    _issued: set[BudgetDecision] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if self.rate_per_hour < 0:
            raise ValueError("rate_per_hour must be >= 0")
        if self.budget_usd is not None and self.budget_usd <= 0:
            raise ValueError("budget must be a positive number of USD")

    @classmethod
    def from_deployment(
        cls,
        info: DeploymentInfo,
        *,
        budget_usd: float | None = None,
        auto_teardown: bool = False,
        table: PricingTable | None = None,
    ) -> CostMeter:
        """A meter for a deployment read back from the state file (continues where it was)."""
        rate = hourly_rate(Configuration.from_deployment(info), table).total
        return cls(
            rate_per_hour=rate,
            provisioned_at=info.provisioned_at or None,
            budget_usd=budget_usd,
            auto_teardown=auto_teardown,
        )

    @property
    def running(self) -> bool:
        """True while something is provisioned and billed."""
        return self.provisioned_at is not None and self.stopped_at is None

    def start(self, provisioned_at: float, rate_per_hour: float | None = None) -> None:
        """Provisioning finished (or a running deployment was found): accrue from provisioned_at."""
        self.provisioned_at = provisioned_at
        self.stopped_at = None
        if rate_per_hour is not None:
            self.rate_per_hour = rate_per_hour

    def stop(self, now: float) -> None:
        """Teardown finished: the figure freezes at what was billed until now."""
        if self.running:
            self.stopped_at = now

    def elapsed_s(self, now: float) -> float:
        """Seconds billed so far (0 before provisioning, frozen after teardown)."""
        if self.provisioned_at is None:
            return 0.0
        end = self.stopped_at if self.stopped_at is not None else now
        return max(0.0, end - self.provisioned_at)

    def accrued(self, now: float) -> float:
        """USD accrued since provisioning."""
        return self.rate_per_hour * self.elapsed_s(now) / 3600.0

    def budget_fraction(self, now: float) -> float | None:
        """Accrued / budget, or None without a budget."""
        if self.budget_usd is None:
            return None
        return self.accrued(now) / self.budget_usd

    def level(self, now: float) -> BudgetLevel:
        """OK / WARN (>= 80 %) / EXCEEDED (>= 100 %), NONE without a budget."""
        frac = self.budget_fraction(now)
        if frac is None:
            return BudgetLevel.NONE
        if frac >= 1.0:
            return BudgetLevel.EXCEEDED
        if frac >= self.warn_fraction:
            return BudgetLevel.WARN
        return BudgetLevel.OK

    def check(self, now: float) -> list[BudgetDecision]:
        """Decisions newly due at `now`: WARN once at 80 %, TEARDOWN once at 100 % with auto_teardown."""
        if not self.running:
            return []
        level = self.level(now)
        due: list[BudgetDecision] = []
        if level in (BudgetLevel.WARN, BudgetLevel.EXCEEDED) and BudgetDecision.WARN not in self._issued:
            due.append(BudgetDecision.WARN)
        if (
            level is BudgetLevel.EXCEEDED
            and self.auto_teardown
            and BudgetDecision.TEARDOWN not in self._issued
        ):
            due.append(BudgetDecision.TEARDOWN)
        self._issued.update(due)
        return due

    def seconds_until_budget(self, now: float) -> float | None:
        """How long until 100 % at the current rate (None: no budget, not running or free)."""
        if self.budget_usd is None or not self.running or self.rate_per_hour <= 0:
            return None
        return max(0.0, (self.budget_usd - self.accrued(now)) * 3600.0 / self.rate_per_hour)


def format_usd(amount: float) -> str:
    """$0.00 for nothing, 4 decimals under $1 (a cheap deployment still moves), 2 above."""
    if amount == 0:
        return "$0.00"
    if abs(amount) < 1:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def format_rate(rate: float) -> str:
    """An hourly rate as the header shows it."""
    return "$0.00/h" if rate == 0 else f"${rate:.3f}/h"
