"""The WAN emulator: address plan, delays, byte order, partitions, control channel, CLI errors."""

from __future__ import annotations

import asyncio
import random
import socket
import subprocess
import sys
import time

import pytest

from mcloud_tui.ops.wan import (
    LatencyMatrix,
    WanConfigError,
    WanControl,
    WanError,
    WanPlan,
    parse_hosts,
    parse_matrix,
)
from mcloud_tui.ops.wan.control import serve_control, summary
from mcloud_tui.ops.wan.emulator import Emulator


# ---- address plan ----------------------------------------------------------------------------------------
def test_local_plan_names_the_source_cloud_in_each_link_address() -> None:
    plan = WanPlan()
    assert plan.link_host("aws", "gcp") == "127.0.2.11"
    assert plan.link_host("azure", "aws") == "127.0.1.13"
    links = plan.links()
    assert len(links) == 6 * 2 + 2  # raft + grpc on every directed pair, s3 towards the storage host only
    assert {(lk.src, lk.dst) for lk in links if lk.service == "s3"} == {("gcp", "aws"), ("azure", "aws")}


def test_env_for_a_cloud_routes_every_cross_cloud_byte_through_its_links() -> None:
    plan = WanPlan()
    assert plan.raft_routes("gcp") == "127.0.1.1:7000=127.0.1.12:7000,127.0.3.1:7000=127.0.3.12:7000"
    assert plan.cp_endpoints("gcp") == "127.0.2.1:50051,127.0.1.12:50051,127.0.3.12:50051"
    assert plan.minio_endpoint("aws") == "127.0.1.1:9000"
    assert plan.minio_endpoint("azure") == "127.0.1.13:9000"
    assert plan.cloud_of_raft("127.0.3.1:7000") == "azure"


def test_default_matrix_is_the_issue_figures_and_one_way_is_half_the_rtt() -> None:
    m = LatencyMatrix()
    assert m.as_dict() == {"aws-gcp": 30.0, "aws-azure": 10.0, "gcp-azure": 35.0}
    assert m.one_way("gcp", "aws") == 15.0
    assert m.rtt("aws", "aws") == 0.0
    assert parse_matrix("aws-gcp=70", 2).as_dict()["aws-gcp"] == 70.0


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("aws-mars=3", "aws-mars"),
        ("aws-gcp=fast", "aws-gcp"),
        ("aws-gcp=-1", "aws-gcp"),
        ("awsgcp", "awsgcp"),
    ],
)
def test_bad_matrix_names_the_bad_pair(spec: str, named: str) -> None:
    with pytest.raises(WanConfigError, match=named):
        parse_matrix(spec)


def test_hosts_parse_both_forms_and_reject_bad_addresses() -> None:
    assert parse_hosts("127.0.61.1,127.0.62.1,127.0.63.1")["gcp"] == "127.0.62.1"
    assert parse_hosts("azure=127.0.3.1,aws=127.0.1.1,gcp=127.0.2.1")["aws"] == "127.0.1.1"
    with pytest.raises(WanConfigError, match="three addresses"):
        parse_hosts("127.0.1.1")
    with pytest.raises(WanConfigError, match="10.0.0.1"):
        WanPlan(hosts={"aws": "10.0.0.1", "gcp": "127.0.2.1", "azure": "127.0.3.1"})
    with pytest.raises(WanConfigError, match=r"\.11-\.13"):
        WanPlan(hosts={"aws": "127.0.1.12", "gcp": "127.0.2.1", "azure": "127.0.3.1"})
    # link addresses are dst's first three octets + the source: two clouds there would share links
    with pytest.raises(WanConfigError, match=r"aws \(127\.0\.0\.1\) and gcp \(127\.0\.0\.2\)"):
        WanPlan(hosts={"aws": "127.0.0.1", "gcp": "127.0.0.2", "azure": "127.0.3.1"})


# ---- the data path -------------------------------------------------------------------------------------
def _free_plan() -> WanPlan:
    b = random.randint(10, 250)
    for _ in range(100):
        hosts = {c: f"127.{b}.{random.randint(1, 250)}.1" for c in ("aws", "gcp", "azure")}
        if len(set(hosts.values())) == 3:
            break
    ports = []
    for _ in range(3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    return WanPlan(hosts=hosts, raft_port=ports[0], grpc_port=ports[1], s3_port=ports[2])


async def _echo_server(host: str, port: int) -> asyncio.Server:
    async def echo(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except OSError:
            pass
        finally:
            w.close()

    return await asyncio.start_server(echo, host, port)


async def _rtt(host: str, port: int, rounds: int = 5) -> float:
    r, w = await asyncio.open_connection(host, port)
    best = []
    for i in range(rounds):
        t0 = time.perf_counter()
        w.write(b"x%d\n" % i)
        await w.drain()
        await r.readline()
        best.append(time.perf_counter() - t0)
    w.close()
    return sorted(best)[len(best) // 2] * 1000


async def test_a_link_adds_its_rtt_and_keeps_byte_order_under_jitter() -> None:
    plan = _free_plan()
    echo = await _echo_server(plan.hosts["gcp"], plan.raft_port)
    emu = Emulator(plan, parse_matrix("aws-gcp=40,aws-azure=10,gcp-azure=20", jitter_ms=8), seed=1)
    await emu.start()
    try:
        rtt = await _rtt(plan.link_host("aws", "gcp"), plan.raft_port)
        assert 40 - 16 <= rtt <= 40 + 40, rtt  # ± jitter on each way, plus loaded-CI slack
        rtt_azure = await _rtt(plan.link_host("azure", "gcp"), plan.raft_port)
        assert rtt_azure < rtt
        # many small writes with jitter come back whole and in order
        r, w = await asyncio.open_connection(plan.link_host("aws", "gcp"), plan.raft_port)
        payload = b"".join(b"%06d," % i for i in range(3000))
        for i in range(0, len(payload), 700):
            w.write(payload[i : i + 700])
            await w.drain()
        got = await asyncio.wait_for(r.readexactly(len(payload)), 10)
        assert got == payload
        w.close()
        stats = {(lk["src"], lk["dst"], lk["service"]): lk for lk in emu.state()["links"]}
        assert stats[("aws", "gcp", "raft")]["bytes"] >= 2 * len(payload)
    finally:
        await emu.close()
        echo.close()


async def test_partition_refuses_new_connections_cuts_open_ones_and_heal_restores() -> None:
    plan = _free_plan()
    echo = await _echo_server(plan.hosts["aws"], plan.grpc_port)
    emu = Emulator(plan, parse_matrix("", jitter_ms=0))
    await emu.start()
    link = (plan.link_host("gcp", "aws"), plan.grpc_port)
    try:
        r, w = await asyncio.open_connection(*link)
        w.write(b"hi\n")
        assert await r.readline() == b"hi\n"
        await emu.partition("gcp")
        assert await asyncio.wait_for(r.read(10), 2) == b""  # the open connection is cut
        with pytest.raises(OSError):
            await asyncio.open_connection(*link)  # new ones are refused
        # a link that does not touch gcp still works
        r2, w2 = await asyncio.open_connection(plan.link_host("azure", "aws"), plan.grpc_port)
        w2.write(b"ok\n")
        assert await r2.readline() == b"ok\n"
        w2.close()
        assert emu.state()["partitioned"] == ["gcp"]
        await emu.heal("gcp")
        r3, w3 = await asyncio.open_connection(*link)
        w3.write(b"back\n")
        assert await r3.readline() == b"back\n"
        w3.close()
        with pytest.raises(ValueError, match="mars"):
            await emu.partition("mars")
    finally:
        await emu.close()
        echo.close()


async def test_control_channel_partitions_heals_and_changes_the_matrix() -> None:
    plan = _free_plan()
    emu = Emulator(plan)
    await emu.start()
    server = await serve_control(emu, "127.0.0.1", 0)
    addr = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    ctl = WanControl(addr)
    try:
        state = await asyncio.to_thread(ctl.partition, "azure")
        assert state["partitioned"] == ["azure"]
        assert "partitioned: azure" in summary(state)
        state = await asyncio.to_thread(ctl.heal)
        assert state["partitioned"] == []
        state = await asyncio.to_thread(ctl.set_rtt, {"aws-gcp": 70}, 3)
        assert state["rtt_ms"]["aws-gcp"] == 70 and state["jitter_ms"] == 3
        with pytest.raises(WanError, match="aws-mars"):
            await asyncio.to_thread(ctl.set_rtt, {"aws-mars": 1})
        with pytest.raises(WanError, match="mars"):
            await asyncio.to_thread(ctl.partition, "mars")
    finally:
        server.close()
        await emu.close()


def test_summary_says_off_without_an_emulator() -> None:
    assert summary(None) == "WAN off"


# ---- CLI -----------------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcloud_tui.ops.wan", *args], capture_output=True, text=True, timeout=30
    )


def test_cli_env_prints_what_a_cloud_needs() -> None:
    out = _cli("env", "azure").stdout
    assert "RAFT_ROUTES=127.0.1.1:7000=127.0.1.13:7000,127.0.2.1:7000=127.0.2.13:7000" in out
    assert "MINIO_ENDPOINT=127.0.1.13:9000" in out


def test_cli_bad_input_is_one_line_naming_it() -> None:
    res = _cli("serve", "--rtt", "aws-gcp=slow", "--control", "127.0.0.1:1")
    assert res.returncode == 2 and res.stderr.strip().count("\n") == 0 and "aws-gcp" in res.stderr
    res = _cli("--control", "127.0.0.1:1", "status")
    assert res.returncode == 1 and "not reachable" in res.stderr and "Traceback" not in res.stderr
