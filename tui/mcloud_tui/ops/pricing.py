"""The pricing table (pricing.json) and the hourly rate of a deployment's configuration.

Prices are data, not code: every figure in pricing.json carries the page it came from and the date it was
read, so an operator can check a number the console shows and a maintainer can refresh the table without
touching Python. This module only loads, validates and sums it. UI-free (no Textual import).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

CLOUDS: tuple[str, ...] = ("aws", "gcp", "azure")


class PricingError(ValueError):
    """The pricing table is malformed, or a configuration names something the table does not price."""


@dataclass(frozen=True)
class Price:
    """One figure of the table, with where it came from, so it can be shown and checked."""

    usd_per_hour: float
    source: str
    as_of: str


@dataclass(frozen=True)
class PricedItem:
    """An instance type, an accelerator or a public IPv4 address in one cloud."""

    key: str
    kind: str
    cloud: str
    region: str
    on_demand: Price
    spot: Price

    def price(self, spot: bool) -> Price:
        """The figure that applies to a spot or an on-demand resource."""
        return self.spot if spot else self.on_demand


@dataclass(frozen=True)
class NodeSpec:
    """What one VM is, as Terraform's `nodes` output describes it (CONTRACTS.md)."""

    cloud: str
    instance_type: str
    spot: bool = False
    gpu: bool = False
    accelerators: tuple[str, ...] = ()


@dataclass(frozen=True)
class RateLine:
    """One billed item of a configuration (shown in the cost-preview modal)."""

    cloud: str
    label: str
    usd_per_hour: float
    source: str
    as_of: str


@dataclass(frozen=True)
class HourlyRate:
    """The $/h of a whole configuration, itemised."""

    lines: tuple[RateLine, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        """Sum of every line, in USD per hour."""
        return sum(line.usd_per_hour for line in self.lines)

    def per_cloud(self) -> dict[str, float]:
        """$/h per cloud, in CLOUDS order (for the per-panel figure)."""
        out = {c: 0.0 for c in CLOUDS}
        for line in self.lines:
            out[line.cloud] = out.get(line.cloud, 0.0) + line.usd_per_hour
        return out


@dataclass(frozen=True)
class PricingTable:
    """The loaded pricing.json."""

    items: dict[str, PricedItem]
    configurations: dict[str, dict[str, NodeSpec]]
    note: str = ""

    def item(self, cloud: str, name: str) -> PricedItem:
        """Look up `cloud:name`; an unknown one is a clear PricingError naming it."""
        key = f"{cloud}:{name}"
        try:
            return self.items[key]
        except KeyError:
            raise PricingError(f"pricing.json has no price for {key!r}") from None

    def nodes_for(self, gpu: bool, spot: bool) -> list[NodeSpec]:
        """The three VMs `terraform apply` creates for enable_gpu/use_spot (the cost preview's input)."""
        config = self.configurations["gpu" if gpu else "cpu"]
        return [
            NodeSpec(
                cloud=c,
                instance_type=config[c].instance_type,
                spot=spot,
                gpu=gpu,
                accelerators=config[c].accelerators,
            )
            for c in CLOUDS
        ]

    def rate_for_nodes(self, nodes: list[NodeSpec]) -> HourlyRate:
        """Instance + accelerators + one public IPv4 per VM, spot or on-demand as each node is."""
        lines: list[RateLine] = []
        for node in nodes:
            inst = self.item(node.cloud, node.instance_type)
            p = inst.price(node.spot)
            kind = "spot" if node.spot else "on-demand"
            lines.append(
                RateLine(node.cloud, f"{node.instance_type} ({kind})", p.usd_per_hour, p.source, p.as_of)
            )
            accelerators = node.accelerators
            if node.gpu and not accelerators:
                # A node from Terraform's output says gpu=true but not which accelerator: take the
                # configuration's (GCP attaches the T4 separately; AWS/Azure include it in the type).
                preset = self.configurations["gpu"].get(node.cloud)
                if preset is not None and preset.instance_type == node.instance_type:
                    accelerators = preset.accelerators
            for acc in accelerators:
                a = self.item(node.cloud, acc).price(node.spot)
                lines.append(RateLine(node.cloud, f"{acc} ({kind})", a.usd_per_hour, a.source, a.as_of))
            ip = self.item(node.cloud, "public-ipv4").price(node.spot)
            lines.append(RateLine(node.cloud, "public IPv4", ip.usd_per_hour, ip.source, ip.as_of))
        return HourlyRate(tuple(lines))

    def rate_for(self, gpu: bool, spot: bool) -> HourlyRate:
        """$/h of the standard three-VM configuration."""
        return self.rate_for_nodes(self.nodes_for(gpu=gpu, spot=spot))


def _price(raw: Any, where: str) -> Price:
    if not isinstance(raw, dict):
        raise PricingError(f"pricing.json: {where} must be an object")
    try:
        usd = float(raw["usd_per_hour"])
        source = str(raw["source"])
        as_of = str(raw["as_of"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PricingError(f"pricing.json: {where} needs usd_per_hour, source and as_of ({exc})") from None
    if usd < 0 or not source or not as_of:
        raise PricingError(f"pricing.json: {where} has a negative price or an empty source/as_of")
    return Price(usd, source, as_of)


def parse_table(data: dict[str, Any]) -> PricingTable:
    """Validate a decoded pricing.json; every figure must have usd_per_hour, source and as_of."""
    if not isinstance(data, dict) or not isinstance(data.get("items"), dict):
        raise PricingError("pricing.json: top level needs an 'items' object")
    items: dict[str, PricedItem] = {}
    for key, raw in data["items"].items():
        if not isinstance(raw, dict) or ":" not in key:
            raise PricingError(f"pricing.json: item {key!r} must be 'cloud:name' mapped to an object")
        items[key] = PricedItem(
            key=key,
            kind=str(raw.get("kind", "instance")),
            cloud=str(raw.get("cloud", key.split(":", 1)[0])),
            region=str(raw.get("region", "")),
            on_demand=_price(raw.get("on_demand"), f"items[{key!r}].on_demand"),
            spot=_price(raw.get("spot"), f"items[{key!r}].spot"),
        )
    configurations: dict[str, dict[str, NodeSpec]] = {}
    raw_conf = data.get("configurations")
    if not isinstance(raw_conf, dict):
        raise PricingError("pricing.json: top level needs a 'configurations' object")
    for name in ("cpu", "gpu"):
        conf = raw_conf.get(name)
        if not isinstance(conf, dict):
            raise PricingError(f"pricing.json: configurations.{name} is missing")
        configurations[name] = {}
        for cloud in CLOUDS:
            node = conf.get(cloud)
            if not isinstance(node, dict) or "instance_type" not in node:
                raise PricingError(f"pricing.json: configurations.{name}.{cloud}.instance_type is missing")
            configurations[name][cloud] = NodeSpec(
                cloud=cloud,
                instance_type=str(node["instance_type"]),
                gpu=name == "gpu",
                accelerators=tuple(str(a) for a in node.get("accelerators", [])),
            )
    table = PricingTable(items=items, configurations=configurations, note=str(data.get("note", "")))
    for gpu in (False, True):  # every preset must be priceable: fail at load, not mid-deployment
        table.rate_for(gpu=gpu, spot=False)
    return table


def load_table(path: str | Path | None = None) -> PricingTable:
    """Load pricing.json (the packaged one unless a path is given)."""
    if path is None:
        return _packaged_table()
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PricingError(f"pricing table {path}: {exc}") from None
    return parse_table(data)


@lru_cache(maxsize=1)
def _packaged_table() -> PricingTable:
    text = resources.files("mcloud_tui.ops").joinpath("pricing.json").read_text()
    return parse_table(json.loads(text))
