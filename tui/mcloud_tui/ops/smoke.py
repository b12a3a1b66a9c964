"""The smoke test: the verification steps, one pass/fail SmokeStep per step and cloud.

1. ``cp-health``     every control-plane node answers /health (per cloud)
2. ``leader``        exactly one leader, agreed by all nodes (cluster-wide)
3. ``storage``       put / get / delete of an object through the S3 API, once per cloud, using the
                     credentials of the deployment; plus the worker on that cloud reports storage_ok
4. ``matmul``        a matrix_multiply job pinned to each cloud SUCCEEDS on that cloud's worker
5. ``artifact``      that job stored its product (``store_result``): the put came from the worker in that
                     cloud (through the WAN link on the local target); the smoke gets it back and deletes it

Steps keep going after a failure so the operator sees every broken thing at once.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import Mapping

from .config import GRPC_PORT, STORAGE_HOST, STORAGE_PORT
from .events import EventSink, SmokeStep
from .health import ClusterHealth, probe
from .secrets import Secrets

MATMUL_SIZE = 256
BUCKET = "mcloud"


def _step(sink: EventSink, step: str, host: str | None, ok: bool, detail: str, t0: float) -> bool:
    sink(SmokeStep(step, host, ok, detail, time.monotonic() - t0))  # type: ignore[arg-type]
    return ok


def check_cp(sink: EventSink, sample: ClusterHealth) -> bool:
    ok_all = True
    for host, hh in sample.hosts.items():
        t0 = time.monotonic()
        ok = hh.cp == "up" and hh.role in ("leader", "follower")
        detail = (
            f"role={hh.role} term={hh.term} commit={hh.commit_index}"
            if hh.cp == "up"
            else "no answer on /health"
        )
        ok_all &= _step(sink, "cp-health", host, ok, detail, t0)
    return ok_all


def check_leader(sink: EventSink, addresses: Mapping[str, str], deadline_s: float = 10.0) -> bool:
    t0 = time.monotonic()
    while True:
        sample = probe(addresses)
        lead = sample.agreed_leader
        if lead or time.monotonic() - t0 > deadline_s:
            break
        time.sleep(0.2)
    if lead:
        return _step(
            sink, "leader", None, True, f"{lead} ({sample.leader_host(addresses)}) agreed by all", t0
        )
    seen = {h: (x.role or "down", x.leader or "-") for h, x in sample.hosts.items()}
    return _step(sink, "leader", None, False, f"no agreed leader: {seen}", t0)


def _storage(addresses: Mapping[str, str], secrets: Secrets):  # type: ignore[no-untyped-def]
    """The deployment's S3 endpoint (on the storage host) and a minio client for it."""
    from minio import Minio

    endpoint = f"{addresses[STORAGE_HOST]}:{STORAGE_PORT}"
    return endpoint, Minio(
        endpoint, access_key=secrets.minio_access_key, secret_key=secrets.minio_secret_key, secure=False
    )


def check_storage(
    sink: EventSink, addresses: Mapping[str, str], secrets: Secrets, worker_json: Mapping[str, dict]
) -> bool:
    from minio.error import S3Error

    endpoint, mc = _storage(addresses, secrets)
    ok_all = True
    for host in addresses:
        t0 = time.monotonic()
        key = f"smoke/{host}/{uuid.uuid4().hex}"
        body = f"mcloud smoke from {host} {time.time()}".encode()
        try:
            if not mc.bucket_exists(BUCKET):
                mc.make_bucket(BUCKET)
            mc.put_object(BUCKET, key, io.BytesIO(body), len(body))
            resp = mc.get_object(BUCKET, key)
            try:
                got = resp.read()
            finally:
                resp.close()
                resp.release_conn()
            mc.remove_object(BUCKET, key)
            if got != body:
                raise ValueError("object read back differs from what was written")
            wk = worker_json.get(host) or {}
            if wk and wk.get("storage_ok") is False:
                raise ValueError(f"worker-{host} reports storage_ok=false ({wk.get('storage_endpoint', '')})")
            ok_all &= _step(sink, "storage", host, True, f"put/get/delete {len(body)} B via {endpoint}", t0)
        except (S3Error, ValueError, OSError, Exception) as exc:  # noqa: BLE001 - report, never crash
            ok_all &= _step(sink, "storage", host, False, f"{type(exc).__name__}: {exc}", t0)
    return ok_all


def check_artifact(
    sink: EventSink, host: str, uri: str, addresses: Mapping[str, str], secrets: Secrets
) -> bool:
    """Get back and delete the product a cloud's worker put into storage."""
    t0 = time.monotonic()
    try:
        bucket, sep, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not sep or not key:
            raise ValueError(f"the job returned no artifact URI (got {uri!r})")
        _, mc = _storage(addresses, secrets)
        resp = mc.get_object(bucket, key)
        try:
            size = len(resp.read())
        finally:
            resp.close()
            resp.release_conn()
        mc.remove_object(bucket, key)
        return _step(sink, "artifact", host, True, f"worker-{host} put {uri} ({size} B); get + delete ok", t0)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one FAIL line
        return _step(sink, "artifact", host, False, f"{type(exc).__name__}: {exc}", t0)


async def _matmul_all(
    sink: EventSink, addresses: Mapping[str, str], secrets: Secrets, timeout_s: float
) -> bool:
    from control_plane.client import ControlPlaneClient
    from control_plane.proto import mcloud_pb2 as pb

    endpoints = [f"{ip}:{GRPC_PORT}" for ip in addresses.values()]
    client = ControlPlaneClient(endpoints, secrets.auth_token, retry_deadline=min(30.0, timeout_s))
    try:

        async def one(host: str) -> bool:
            t0 = time.monotonic()
            try:
                job = await client.submit_job(
                    "matrix_multiply",
                    {"size": MATMUL_SIZE, "seed": 1, "store_result": True},
                    cloud=host,
                    request_id=f"smoke-{uuid.uuid4()}",
                )
                while True:
                    job = await client.get_job(job.id)
                    state = pb.JobState.Name(job.state)
                    if state in ("SUCCEEDED", "FAILED", "CANCELLED", "CANCELED"):
                        break
                    if time.monotonic() - t0 > timeout_s:
                        return _step(
                            sink,
                            "matmul",
                            host,
                            False,
                            f"job {job.id} still {state} after {timeout_s:.0f}s",
                            t0,
                        )
                    await asyncio.sleep(0.2)
                if state != "SUCCEEDED":
                    return _step(sink, "matmul", host, False, f"job {job.id} {state}: {job.error}", t0)
                res = json.loads(job.result_json or "{}")
                if job.worker_cloud and job.worker_cloud != host:
                    return _step(sink, "matmul", host, False, f"ran on {job.worker_cloud}, not {host}", t0)
                detail = (
                    f"{job.worker_id or '?'} {res.get('device', '?')} size={res.get('size', MATMUL_SIZE)} "
                    f"{res.get('duration_ms', 0):.1f} ms {res.get('tflops', 0):.3f} TFLOP/s"
                )
                _step(sink, "matmul", host, True, detail, t0)
                uri = job.artifact_uri or res.get("artifact_uri", "")
                return await asyncio.to_thread(check_artifact, sink, host, uri, addresses, secrets)
            except Exception as exc:  # noqa: BLE001 - every failure becomes one FAIL line
                return _step(sink, "matmul", host, False, f"{type(exc).__name__}: {exc}", t0)

        results = await asyncio.gather(*(one(h) for h in addresses))
        return all(results)
    finally:
        await client.close()


def check_matmul(
    sink: EventSink, addresses: Mapping[str, str], secrets: Secrets, timeout_s: float = 60.0
) -> bool:
    """A matmul pinned to each cloud, run there, its product stored from there (then fetched and deleted)."""
    return asyncio.run(_matmul_all(sink, addresses, secrets, timeout_s))


def run_smoke(sink: EventSink, addresses: Mapping[str, str], secrets: Secrets) -> bool:
    """All steps; True when every one passed."""
    sample = probe(addresses)
    ok = check_cp(sink, sample)
    ok &= check_leader(sink, addresses)
    ok &= check_storage(sink, addresses, secrets, sample.worker_json)
    ok &= check_matmul(sink, addresses, secrets)
    return ok
