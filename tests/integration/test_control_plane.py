"""A real 3-node control plane on loopback: election, replication, failover, restart, auth, bad input."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import grpc
import pytest

from control_plane.client import ControlPlaneClient, ControlPlaneError
from control_plane.localcluster import DEFAULT_HOSTS, ports_free
from control_plane.proto import mcloud_pb2 as pb

pytestmark = pytest.mark.integration


def client_for(cluster, endpoints=None, **kw) -> ControlPlaneClient:
    return ControlPlaneClient(endpoints or cluster.endpoints, cluster.token, **kw)


def test_three_nodes_agree_on_one_leader_within_5s(make_cluster) -> None:
    # the local target's own addresses when they are free (a developer's deployment may hold them)
    hosts = DEFAULT_HOSTS if all(ports_free(h, (7000, 50051, 8080)) for h in DEFAULT_HOSTS) else None
    start = time.monotonic()
    cluster = make_cluster(hosts=hosts)
    leader = cluster.wait_for_leader(timeout=5)
    elapsed = time.monotonic() - start
    views = [cluster.health(i) for i in range(3)]
    assert {v["leader"] for v in views} == {cluster.nodes[leader].raft}
    assert [v["role"] for v in views].count("leader") == 1
    assert all(v["has_quorum"] for v in views)
    assert set(views[0]) >= {
        "node_id",
        "cloud",
        "role",
        "leader",
        "term",
        "commit_index",
        "last_applied",
        "has_quorum",
        "peers",
    }
    assert elapsed < 5


async def test_job_submitted_through_a_follower_is_readable_everywhere(make_cluster) -> None:
    cluster = make_cluster()
    leader = cluster.wait_for_leader()
    follower = next(i for i in range(3) if i != leader)
    async with client_for(cluster, [cluster.nodes[follower].grpc]) as c:
        c._leader = ""  # do not redirect to the leader: prove a follower accepts the write
        job = await c.submit_job("noop", {"n": 1})
    for node in cluster.nodes:
        async with client_for(cluster, [node.grpc]) as c:
            deadline = time.monotonic() + 5
            while True:
                try:
                    got = await c.get_job(job.id)
                    break
                except ControlPlaneError as exc:
                    assert exc.code == grpc.StatusCode.NOT_FOUND
                    assert time.monotonic() < deadline, f"{job.id} never reached {node.node_id}"
                    await asyncio.sleep(0.05)
            assert got.payload_json == json.dumps({"n": 1}, separators=(",", ":"))


async def test_kill_9_leader_loses_nothing_and_the_node_catches_up(make_cluster) -> None:
    cluster = make_cluster()
    old = cluster.wait_for_leader()
    async with client_for(cluster) as c:
        acked = [(await c.submit_job("noop", {"i": i})).id for i in range(30)]
        cluster.kill(old, signal.SIGKILL)
        t0 = time.monotonic()
        others = [i for i in range(3) if i != old]
        new = cluster.wait_for_leader(timeout=5, among=others)
        assert new != old and time.monotonic() - t0 < 5
        # the new leader holds every acknowledged job (a lagging follower may still be catching up)
        async with client_for(cluster, [cluster.nodes[new].grpc]) as on_leader:
            assert set(acked) <= {j.id for j in await on_leader.list_jobs()}
        after = await c.submit_job("noop", {"after": True})
        assert after.id not in acked
    target = cluster.health(new)["commit_index"]
    cluster.start_node(old)
    caught_up = cluster.wait_for_commit(old, target, timeout=10)
    assert caught_up["role"] == "follower"
    assert caught_up["jobs"]["PENDING"] == len(acked) + 1


async def test_sigterm_stops_cleanly_and_restart_rejoins(make_cluster) -> None:
    cluster = make_cluster()
    cluster.wait_for_leader()
    victim = 2
    async with client_for(cluster) as c:
        await c.submit_job("noop", {})
    cluster.kill(victim, signal.SIGTERM)
    assert cluster.nodes[victim].proc.returncode == 0, cluster.log_tail(victim)
    assert "stopped" in cluster.log_tail(victim)
    async with client_for(cluster, cluster.endpoints[:2]) as c:  # the majority keeps serving
        await c.submit_job("noop", {})
    commit = max(cluster.health(i)["commit_index"] for i in range(2))
    cluster.start_node(victim)
    assert cluster.wait_for_commit(victim, commit)["jobs"]["PENDING"] == 2


async def test_lease_expires_and_stale_completion_is_rejected_over_grpc(make_cluster) -> None:
    cluster = make_cluster(LEASE_TTL_S="1")
    cluster.wait_for_leader()
    async with client_for(cluster) as c:
        job = await c.submit_job("noop", {}, cloud="gcp")
        [first] = await c.lease_tasks("w1", "gcp", False, wait_ms=2000)
        assert first.job_id == job.id and first.token == 1
        # nobody renews: after the TTL (and the new leader's grace) the task is leased again
        [second] = await c.lease_tasks("w2", "gcp", False, wait_ms=8000)
        assert second.job_id == job.id and second.token == 2
        stale = await c.complete_task("w1", job.id, first.token, success=True, result={"who": "w1"})
        assert not stale.accepted and "stale token" in stale.reason
        ok = await c.complete_task("w2", job.id, second.token, success=True, result={"who": "w2"})
        again = await c.complete_task("w2", job.id, second.token, success=True, result={"who": "again"})
        assert ok.accepted and not again.accepted
        final = await c.get_job(job.id)
        assert final.state == pb.SUCCEEDED and json.loads(final.result_json) == {"who": "w2"}
        assert final.stale_completions == 2


async def test_watch_jobs_streams_changes(make_cluster) -> None:
    cluster = make_cluster()
    cluster.wait_for_leader()
    async with client_for(cluster) as c:
        seen: list[tuple[str, int]] = []

        async def watch() -> None:
            async for job in c.watch_jobs(include_existing=False):
                seen.append((job.id, job.state))
                if job.state == pb.SUCCEEDED:
                    return

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0)  # let the stream open before the first change
        deadline = time.monotonic() + 5
        await c.submit_job("noop", {})
        while not seen and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            if not seen:  # the stream may have opened after the submit: make another change
                await c.submit_job("noop", {})
        [lease] = await c.lease_tasks("w", "aws", False, wait_ms=2000, max_tasks=1)
        await c.complete_task("w", lease.job_id, lease.token, success=True, result={})
        await asyncio.wait_for(watcher, 5)
        assert (lease.job_id, pb.SUCCEEDED) in seen


async def test_wrong_or_missing_token_is_unauthenticated(make_cluster) -> None:
    cluster = make_cluster()
    cluster.wait_for_leader()
    async with ControlPlaneClient(cluster.endpoints, "wrong", retry_deadline=3) as c:
        with pytest.raises(ControlPlaneError) as err:
            await c.submit_job("noop", {})
        assert (
            err.value.code == grpc.StatusCode.UNAUTHENTICATED and "invalid bearer token" in err.value.message
        )
    from control_plane.proto import mcloud_pb2_grpc as pb_grpc

    async with grpc.aio.insecure_channel(cluster.endpoints[0]) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as err2:
            await pb_grpc.ControlPlaneStub(ch).ListJobs(pb.ListJobsRequest())
        assert err2.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "authorization" in err2.value.details()
        stream = pb_grpc.ControlPlaneStub(ch).WatchJobs(pb.WatchJobsRequest())
        with pytest.raises(grpc.aio.AioRpcError) as err3:
            async for _ in stream:
                pass
        assert err3.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_bad_submit_fields_are_named(make_cluster) -> None:
    cluster = make_cluster()
    cluster.wait_for_leader()
    async with client_for(cluster) as c:
        for kwargs, named in (({"cloud": "gpc"}, "'cloud'"), ({}, "'type'")):
            with pytest.raises(ControlPlaneError) as err:
                await c.submit_job("" if named == "'type'" else "noop", {}, **kwargs)
            assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT and named in err.value.message
        assert await c.list_jobs() == []


def test_metrics_endpoint_exposes_raft_and_jobs(make_cluster) -> None:
    cluster = make_cluster()
    leader = cluster.wait_for_leader()
    with urllib.request.urlopen(f"http://{cluster.nodes[leader].http}/metrics", timeout=2) as r:
        text = r.read().decode()
    assert 'mcloud_raft_role{role="leader"} 1.0' in text
    assert 'mcloud_jobs{state="PENDING"}' in text and "mcloud_raft_commit_index" in text


def _run_cp(env_changes: dict[str, str], cluster) -> subprocess.CompletedProcess[str]:
    env = cluster.env_for(cluster.nodes[0])
    env.update(env_changes)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "control_plane"], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"RAFT_PASSWORD": ""}, "RAFT_PASSWORD is not set"),
        ({"RAFT_PEERS": "a:b,c"}, "RAFT_PEERS: expected host:port"),
    ],
)
def test_bad_env_exits_with_one_line(make_cluster, change, expected) -> None:
    cluster = make_cluster(start=False)
    result = _run_cp(change, cluster)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"mcloud-cp: {expected}" + result.stderr.strip().split(expected, 1)[1]
    ]
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_address_in_use_exits_with_one_line(make_cluster) -> None:
    cluster = make_cluster(n=3, start=False)
    cluster.start_node(0)
    deadline = time.monotonic() + 10
    while cluster.health(0) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    result = _run_cp({}, cluster)  # the same addresses again
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0] and "RAFT_SELF" in lines[0]


def test_cli_refuses_malformed_json_and_submits_nothing(make_cluster) -> None:
    cluster = make_cluster()
    cluster.wait_for_leader()
    env = {**os.environ, "CP_ENDPOINTS": ",".join(cluster.endpoints), "AUTH_TOKEN": cluster.token}
    cli = [sys.executable, "-c", "from control_plane.cli import main; main()"]
    bad = subprocess.run(
        [*cli, "submit", "matrix_multiply", "{size: 1024}"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr and "Traceback" not in bad.stderr
    listed = subprocess.run([*cli, "jobs"], env=env, capture_output=True, text=True, check=True)
    assert "job-" not in listed.stdout
    good = subprocess.run(
        [*cli, "submit", "noop", '{"a": 1}'], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(good.stdout)["state"] == "PENDING"
    status = subprocess.run([*cli, "status"], env=env, capture_output=True, text=True, check=True)
    assert status.stdout.count("leader") >= 3 and "quorum=yes" in status.stdout


def _self_signed(tmp_path, hosts):
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mcloud-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(h)) for h in hosts]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


async def test_tls_when_cert_paths_are_given(make_cluster, tmp_path) -> None:
    cluster = make_cluster(start=False)
    cert, key = _self_signed(tmp_path, [n.host for n in cluster.nodes])
    cluster.extra_env = {"TLS_CERT": cert, "TLS_KEY": key}
    cluster.start()
    cluster.wait_for_leader()
    async with client_for(cluster, ca_cert=cert) as c:
        job = await c.submit_job("noop", {"tls": True})
        assert (await c.get_job(job.id)).id == job.id
    async with client_for(cluster, retry_deadline=2) as plain:  # a plaintext client cannot talk to it
        with pytest.raises(ControlPlaneError):
            await plain.cluster_status()


async def test_complete_tasks_reports_each_outcome_in_order(make_cluster) -> None:
    cluster = make_cluster()
    cluster.wait_for_leader()
    async with client_for(cluster) as c:
        for i in range(3):
            await c.submit_job("noop", {"i": i})
        leases = await c.lease_tasks("w", "aws", False, max_tasks=3, wait_ms=2000)
        assert len(leases) == 3
        reqs = [
            pb.CompleteTaskRequest(
                worker_id="w", job_id=leases[0].job_id, token=leases[0].token, success=True, result_json="{}"
            ),
            pb.CompleteTaskRequest(
                worker_id="w",
                job_id=leases[1].job_id,
                token=leases[1].token,
                success=True,
                result_json="{nope",
            ),
            pb.CompleteTaskRequest(
                worker_id="w", job_id=leases[2].job_id, token=leases[2].token + 7, success=True
            ),
        ]
        results = await c.complete_tasks(reqs)
        assert [r.accepted for r in results] == [True, False, False]
        assert "result_json" in results[1].reason and "stale token" in results[2].reason
        states = {j.id: j.state for j in await c.list_jobs()}
        assert states[leases[0].job_id] == pb.SUCCEEDED and states[leases[1].job_id] == pb.LEASED


async def test_a_retried_lease_call_gets_the_same_leases_back(make_cluster) -> None:
    """A LeaseTasks whose answer was lost (node stopping) and is retried with the same request id returns
    what was granted, instead of leaving those tasks held by nobody until their leases expire."""
    from control_plane.auth import bearer
    from control_plane.proto import mcloud_pb2_grpc as pb_grpc

    cluster = make_cluster()
    cluster.wait_for_leader()
    async with client_for(cluster) as c:
        for i in range(2):
            await c.submit_job("noop", {"i": i})
    req = pb.LeaseTasksRequest(
        worker_id="w", cloud="aws", max_tasks=5, wait_ms=1000, request_id="lease-rid-1"
    )
    answers = []
    for i, endpoint in enumerate(cluster.endpoints[:2]):  # the retry lands on another node
        if i:  # ...once that node has applied the first call's lease
            cluster.wait_for_commit(i, cluster.health(0)["commit_index"])
        async with grpc.aio.insecure_channel(endpoint) as ch:
            answers.append(await pb_grpc.ControlPlaneStub(ch).LeaseTasks(req, metadata=bearer(cluster.token)))
    first, retried = ([(x.job_id, x.token) for x in a.leases] for a in answers)
    assert len(first) == 2 and retried == first
