"""Cost meter: rates per configuration, accrual across a console restart, budget decisions."""

from __future__ import annotations

import pytest

from mcloud_tui.ops.cost import (
    BudgetDecision,
    BudgetLevel,
    Configuration,
    CostMeter,
    cloud_equivalent,
    format_rate,
    format_usd,
    hourly_rate,
)
from mcloud_tui.ops.events import DeploymentInfo, NodeInfo
from mcloud_tui.ops.pricing import NodeSpec, PricingError, load_table, parse_table

T0 = 1_800_000_000.0  # a fixed clock: every test passes `now` explicitly


@pytest.fixture(scope="module")
def table():
    return load_table()


# Hand sums of pricing.json: instances (+ GCP's T4) + one public IPv4 per VM.
EXPECTED = {
    # (gpu, spot): $/h
    (False, False): 0.0832 + 0.067 + 0.096 + 0.005 * 3,
    (False, True): 0.030 + 0.027 + 0.011 + 0.005 + 0.0025 + 0.005,
    (True, False): 0.526 + (0.19 + 0.35) + 0.526 + 0.005 * 3,
    (True, True): 0.18 + (0.042 + 0.14) + 0.063 + 0.005 + 0.0025 + 0.005,
}


@pytest.mark.parametrize(("gpu", "spot"), sorted(EXPECTED))
def test_rate_per_configuration(table, gpu: bool, spot: bool) -> None:
    rate = hourly_rate(Configuration("cloud", gpu=gpu, spot=spot), table)
    assert rate.total == pytest.approx(EXPECTED[(gpu, spot)])
    assert set(rate.per_cloud()) == {"aws", "gcp", "azure"}
    assert all(v > 0 for v in rate.per_cloud().values())
    # every line of the preview names where its figure comes from and when it was read
    assert all(line.source and line.as_of for line in rate.lines)
    labels = [line.label for line in rate.lines]
    assert sum("public IPv4" in lbl for lbl in labels) == 3
    assert any("nvidia-tesla-t4" in lbl for lbl in labels) == gpu
    assert all(("(spot)" in lbl) == spot for lbl in labels if "IPv4" not in lbl)


def test_spot_is_cheaper_and_gpu_dearer(table) -> None:
    r = {k: hourly_rate(Configuration("cloud", gpu=k[0], spot=k[1]), table).total for k in EXPECTED}
    assert r[(False, True)] < r[(False, False)] < r[(True, False)]
    assert r[(True, True)] < r[(True, False)]


def test_local_target_is_free_but_shows_the_cloud_equivalent(table) -> None:
    local = Configuration("local")
    assert hourly_rate(local, table).total == 0.0
    eq = cloud_equivalent(local, table)
    assert eq.on_demand == pytest.approx(EXPECTED[(False, False)])
    assert eq.spot == pytest.approx(EXPECTED[(False, True)])
    assert format_rate(0.0) == "$0.00/h" and format_usd(0.0) == "$0.00"


def _cloud_info(provisioned_at: float, *, gpu: bool = False, spot: bool = True) -> DeploymentInfo:
    types = {
        "aws": "g4dn.xlarge" if gpu else "t3.large",
        "gcp": "n1-standard-4" if gpu else "e2-standard-2",
        "azure": "Standard_NC4as_T4_v3" if gpu else "Standard_D2s_v5",
    }
    hosts = {
        h: NodeInfo(host=h, ip=f"203.0.113.{i}", instance_type=t, spot=spot, gpu=gpu)
        for i, (h, t) in enumerate(types.items(), start=1)
    }
    return DeploymentInfo(target="cloud", deployment_name="d1", hosts=hosts, provisioned_at=provisioned_at)


def test_rate_from_terraform_nodes_matches_the_preset(table) -> None:
    for gpu in (False, True):
        cfg = Configuration.from_deployment(_cloud_info(T0, gpu=gpu, spot=True))
        assert cfg.gpu is gpu and cfg.spot is True
        assert hourly_rate(cfg, table).total == pytest.approx(EXPECTED[(gpu, True)])


def test_accrual_continues_across_a_restart(table) -> None:
    info = _cloud_info(T0)
    first = CostMeter.from_deployment(info, table=table)
    assert first.running
    at_half_hour = first.accrued(T0 + 1800)
    assert at_half_hour == pytest.approx(EXPECTED[(False, True)] / 2)
    # the console closes; the clouds keep billing; a new console reads provisioned_at back
    del first
    reopened = CostMeter.from_deployment(info, table=table)
    assert reopened.accrued(T0 + 3600) == pytest.approx(EXPECTED[(False, True)])
    assert reopened.accrued(T0 + 3600) > at_half_hour


def test_meter_idle_before_provisioning_and_frozen_after_teardown() -> None:
    m = CostMeter(rate_per_hour=0.36)
    assert not m.running and m.accrued(T0) == 0.0
    m.start(T0)
    assert m.accrued(T0 + 3600) == pytest.approx(0.36)
    m.stop(T0 + 3600)
    assert not m.running
    assert m.accrued(T0 + 7200) == pytest.approx(0.36)  # the meter stops with the deployment
    assert m.check(T0 + 7200) == []


def test_budget_warns_at_80_percent_and_tears_down_at_100_once() -> None:
    m = CostMeter(rate_per_hour=1.0, budget_usd=1.0, auto_teardown=True)
    m.start(T0)
    assert m.level(T0 + 60) is BudgetLevel.OK and m.check(T0 + 60) == []
    assert m.check(T0 + 0.79 * 3600) == []
    assert m.level(T0 + 0.8 * 3600) is BudgetLevel.WARN
    assert m.check(T0 + 0.8 * 3600) == [BudgetDecision.WARN]
    assert m.check(T0 + 0.9 * 3600) == []  # said once
    assert m.seconds_until_budget(T0 + 0.9 * 3600) == pytest.approx(360)
    assert m.check(T0 + 3600) == [BudgetDecision.TEARDOWN]
    assert m.level(T0 + 3600) is BudgetLevel.EXCEEDED
    assert m.check(T0 + 4000) == []


def test_budget_without_auto_teardown_only_warns() -> None:
    m = CostMeter(rate_per_hour=2.0, budget_usd=1.0)
    m.start(T0)
    assert m.check(T0 + 3600) == [BudgetDecision.WARN]  # jumped past 100 %: warn, never tear down
    assert CostMeter(rate_per_hour=1.0).level(T0) is BudgetLevel.NONE


def test_bad_budget_and_bad_table_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="budget"):
        CostMeter(budget_usd=0)
    raw = {"items": {"aws:t3.large": {"on_demand": {"usd_per_hour": 0.08}}}, "configurations": {}}
    with pytest.raises(PricingError, match=r"aws:t3.large.*source"):
        parse_table(raw)
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    with pytest.raises(PricingError, match="p.json"):
        load_table(bad)


def test_unknown_instance_type_names_it(table) -> None:
    with pytest.raises(PricingError, match="aws:m7i.huge"):
        table.rate_for_nodes([NodeSpec("aws", "m7i.huge")])


def test_every_figure_in_the_table_has_source_and_date(table) -> None:
    for item in table.items.values():
        for p in (item.on_demand, item.spot):
            assert p.usd_per_hour >= 0 and p.source and len(p.as_of) >= 7
