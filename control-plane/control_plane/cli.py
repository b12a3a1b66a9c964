"""`mcloud`: submit and inspect jobs from a shell.

    mcloud submit TYPE JSON [--cloud C] [--gpu] [--wait]
    mcloud job ID | mcloud jobs [--state S] [--limit N] | mcloud cancel ID | mcloud status

Reads CP_ENDPOINTS and AUTH_TOKEN (and TLS_CA for TLS). Exit codes: 0 ok, 1 the job failed or the
cluster could not be reached, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from .client import ControlPlaneClient, ControlPlaneError
from .config import ConfigError, parse_endpoints, require
from .proto import mcloud_pb2 as pb
from .service import KNOWN_CLOUDS


class UsageError(Exception):
    pass


def job_dict(job: pb.Job) -> dict[str, Any]:
    """A job as the CLI prints it: result decoded, zero times dropped."""
    out: dict[str, Any] = {
        "id": job.id,
        "type": job.type,
        "state": pb.JobState.Name(job.state),
        "cloud": job.cloud or "any",
        "gpu": job.gpu,
        "payload": json.loads(job.payload_json or "{}"),
        "attempt": job.attempt,
        "worker": job.worker_id,
        "worker_cloud": job.worker_cloud,
    }
    if job.result_json:
        out["result"] = json.loads(job.result_json)
    if job.error:
        out["error"] = job.error
    if job.artifact_uri:
        out["artifact_uri"] = job.artifact_uri
    if job.finished_at and job.created_at:
        out["latency_s"] = round(job.finished_at - job.created_at, 3)
    return out


def parse_payload(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"JSON payload is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): {text!r}"
        ) from None
    if not isinstance(payload, dict):
        raise UsageError(f"JSON payload must be an object like '{{\"size\": 1024}}', got {text!r}")
    return payload


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mcloud", description="Submit and inspect mcloud jobs.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("submit", help="queue a job")
    s.add_argument("type", help="task type, e.g. matrix_multiply")
    s.add_argument("payload", help="JSON object, e.g. '{\"size\": 1024}'")
    s.add_argument("--cloud", choices=KNOWN_CLOUDS, default="", help="run on this cloud's workers only")
    s.add_argument("--gpu", action="store_true", help="needs a GPU worker")
    s.add_argument("--wait", action="store_true", help="wait for the result and print it")
    s.add_argument("--timeout", type=float, default=600.0, help="seconds to wait with --wait")
    j = sub.add_parser("job", help="show one job")
    j.add_argument("id")
    ls = sub.add_parser("jobs", help="list jobs, newest first")
    ls.add_argument("--state", choices=[v.name for v in pb.JobState.DESCRIPTOR.values if v.number])
    ls.add_argument("--limit", type=int, default=50)
    c = sub.add_parser("cancel", help="cancel a job")
    c.add_argument("id")
    sub.add_parser("status", help="Raft leader, term, commit index, jobs by state")
    return p


async def run(args: argparse.Namespace, client: ControlPlaneClient, token: str) -> int:
    if args.cmd == "submit":
        payload = parse_payload(args.payload)
        job = await client.submit_job(args.type, payload, cloud=args.cloud, gpu=args.gpu)
        if not args.wait:
            print(json.dumps(job_dict(job), indent=2))
            return 0
        job = await client.wait_job(job.id, timeout=args.timeout)
        print(json.dumps(job_dict(job), indent=2))
        return 0 if job.state == pb.SUCCEEDED else 1
    if args.cmd == "job":
        print(json.dumps(job_dict(await client.get_job(args.id)), indent=2))
        return 0
    if args.cmd == "cancel":
        print(json.dumps(job_dict(await client.cancel_job(args.id)), indent=2))
        return 0
    if args.cmd == "jobs":
        states = [pb.JobState.Value(args.state)] if args.state else []
        jobs = await client.list_jobs(states, args.limit)
        print(f"{'ID':<12} {'TYPE':<16} {'STATE':<10} {'CLOUD':<6} {'WORKER':<16} RESULT/ERROR")
        for job in jobs:
            d = job_dict(job)
            detail = d.get("error") or (json.dumps(d["result"])[:60] if "result" in d else "")
            print(
                f"{d['id']:<12} {d['type']:<16} {d['state']:<10} {d['cloud']:<6} {d['worker']:<16} {detail}"
            )
        return 0
    # status: every endpoint's own view, so a split brain or a lagging node is visible
    for endpoint in client.endpoints:
        single = ControlPlaneClient([endpoint], token, call_timeout=2, retry_deadline=2)
        try:
            st = await single.cluster_status()
            peers = " ".join(f"{p.address}={'up' if p.connected else 'DOWN'}" for p in st.peers)
            jobs = " ".join(f"{k.lower()}={v}" for k, v in sorted(st.jobs_by_state.items()) if v)
            print(
                f"{endpoint:<22} {st.node_id:<10} {st.role:<9} term={st.term} commit={st.commit_index} "
                f"leader={st.leader or '-'} quorum={'yes' if st.has_quorum else 'NO'} {peers} {jobs}".rstrip()
            )
        except ControlPlaneError as exc:
            print(f"{endpoint:<22} unreachable: {exc.message}")
        finally:
            await single.close()
    return 0


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        endpoints = parse_endpoints(require(os.environ, "CP_ENDPOINTS"), "CP_ENDPOINTS")
        token = require(os.environ, "AUTH_TOKEN")
        if args.cmd == "submit":
            parse_payload(args.payload)  # refuse bad JSON before touching the network
    except (ConfigError, UsageError) as exc:
        print(f"mcloud: {exc}", file=sys.stderr)
        sys.exit(2)

    async def go() -> int:
        async with ControlPlaneClient(endpoints, token, ca_cert=os.environ.get("TLS_CA") or None) as client:
            return await run(args, client, token)

    try:
        code = asyncio.run(go())
    except ControlPlaneError as exc:
        print(f"mcloud: {exc}", file=sys.stderr)
        code = 1
    except TimeoutError as exc:
        print(f"mcloud: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
