"""Conversions between the state machine's dataclasses and the protobuf messages."""

from __future__ import annotations

from .proto import mcloud_pb2 as pb
from .state import Job, LeaseGrant


def job_to_pb(job: Job) -> pb.Job:
    return pb.Job(
        id=job.id,
        type=job.type,
        payload_json=job.payload_json,
        cloud=job.cloud,
        gpu=job.gpu,
        state=pb.JobState.Value(job.state),
        attempt=job.attempt,
        worker_id=job.worker_id,
        worker_cloud=job.worker_cloud,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        lease_expires_at=job.lease_expires_at,
        result_json=job.result_json,
        error=job.error,
        artifact_uri=job.artifact_uri,
        stale_completions=job.stale_completions,
        request_id=job.request_id,
        accepted_completions=job.accepted_completions,
    )


def grant_to_pb(grant: LeaseGrant) -> pb.Lease:
    return pb.Lease(
        job_id=grant.job_id,
        type=grant.type,
        payload_json=grant.payload_json,
        token=grant.token,
        expires_at=grant.expires_at,
        ttl_ms=int(grant.ttl * 1000),
    )


def state_name(state: int) -> str:
    return pb.JobState.Name(state)
