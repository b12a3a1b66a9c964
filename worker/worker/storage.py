"""Artifact storage on any S3-compatible server (MinIO in the clouds, MinIO or moto locally), via the minio SDK.

Objects of a job live at ``jobs/<job id>/<name>`` in one bucket, ensured at start. URIs are
``s3://<bucket>/<key>``. Credentials are held privately and never appear in logs, reprs or errors.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass, field

import urllib3
from minio import Minio
from minio.error import S3Error

log = logging.getLogger("worker.storage")


class StorageError(Exception):
    """A storage call failed; the message names the endpoint and the operation, never the credentials."""


@dataclass(frozen=True)
class StorageConfig:
    """Where the bucket is and how to reach it (the MINIO_* env contract)."""

    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    bucket: str = "mcloud"
    secure: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> StorageConfig | None:
        """The config from MINIO_* variables; None when MINIO_ENDPOINT is unset (a worker without storage)."""
        env = dict(os.environ if env is None else env)
        endpoint = env.get("MINIO_ENDPOINT", "").strip()
        if not endpoint:
            return None
        if "://" in endpoint or "/" in endpoint or ":" not in endpoint:
            raise ValueError(f"MINIO_ENDPOINT must be host:port (no scheme or path), got {endpoint!r}")
        for var in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
            if not env.get(var):
                raise ValueError(f"{var} is required when MINIO_ENDPOINT is set")
        secure_raw = env.get("MINIO_SECURE", "false").strip().lower()
        if secure_raw not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"MINIO_SECURE must be true or false, got {secure_raw!r}")
        bucket = env.get("MINIO_BUCKET", "mcloud").strip() or "mcloud"
        return cls(
            endpoint=endpoint,
            access_key=env["MINIO_ACCESS_KEY"],
            secret_key=env["MINIO_SECRET_KEY"],
            bucket=bucket,
            secure=secure_raw in ("true", "1", "yes"),
        )


def job_key(job_id: str, name: str) -> str:
    """The object key of artifact ``name`` of job ``job_id``."""
    if not job_id or "/" in job_id or not name or name.startswith("/"):
        raise ValueError(f"bad artifact path: job id {job_id!r}, name {name!r}")
    return f"jobs/{job_id}/{name}"


class Storage:
    """A bucket on an S3-compatible server. Calls block: run them in a thread from async code."""

    def __init__(self, cfg: StorageConfig, *, timeout_s: float = 10.0, retries: int = 2) -> None:
        self.cfg = cfg
        # Short timeouts and few retries: the SDK's default pool retries for a long time, which would freeze
        # a health probe against a dead endpoint.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(3.0, timeout_s), read=timeout_s),
            retries=urllib3.Retry(total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
            maxsize=16,
        )
        self._client = Minio(
            cfg.endpoint,
            access_key=cfg.access_key,
            secret_key=cfg.secret_key,
            secure=cfg.secure,
            http_client=http,
        )

    def __repr__(self) -> str:
        return f"Storage(endpoint={self.cfg.endpoint!r}, bucket={self.cfg.bucket!r})"

    @property
    def endpoint(self) -> str:
        """host:port of the server."""
        return self.cfg.endpoint

    def uri(self, key: str) -> str:
        """The s3:// URI of ``key`` in this bucket."""
        return f"s3://{self.cfg.bucket}/{key}"

    def _fail(self, op: str, exc: Exception) -> StorageError:
        detail = f"{exc.code}: " if isinstance(exc, S3Error) else ""
        return StorageError(f"storage {op} at {self.cfg.endpoint} failed: {detail}{_short(exc)}")

    def ensure_bucket(self) -> bool:
        """Create the bucket when missing; True when it had to be created."""
        try:
            if self._client.bucket_exists(self.cfg.bucket):
                return False
            self._client.make_bucket(self.cfg.bucket)
            log.info("storage: created bucket %s at %s", self.cfg.bucket, self.cfg.endpoint)
            return True
        except Exception as exc:
            raise self._fail(f"ensure bucket {self.cfg.bucket!r}", exc) from None

    def check(self) -> bool:
        """True when the server answers and the bucket exists (for /health; never raises)."""
        try:
            return bool(self._client.bucket_exists(self.cfg.bucket))
        except Exception:
            return False

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Upload ``data`` at ``key``; returns its URI."""
        try:
            self._client.put_object(
                self.cfg.bucket, key, io.BytesIO(data), len(data), content_type=content_type
            )
        except Exception as exc:
            raise self._fail(f"put {key!r}", exc) from None
        return self.uri(key)

    def put_job_artifact(
        self, job_id: str, name: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> str:
        """Upload an artifact of a job at ``jobs/<job id>/<name>``; returns its URI."""
        return self.put_bytes(job_key(job_id, name), data, content_type)

    def get_bytes(self, key: str) -> bytes:
        """The whole object at ``key``."""
        try:
            resp = self._client.get_object(self.cfg.bucket, key)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()
        except Exception as exc:
            raise self._fail(f"get {key!r}", exc) from None

    def list_keys(self, prefix: str = "") -> list[str]:
        """Keys under ``prefix`` (recursive)."""
        try:
            return [o.object_name for o in self._client.list_objects(self.cfg.bucket, prefix, recursive=True)]
        except Exception as exc:
            raise self._fail(f"list {prefix!r}", exc) from None

    def delete(self, key: str) -> None:
        """Remove the object at ``key`` (no error when it is already gone)."""
        try:
            self._client.remove_object(self.cfg.bucket, key)
        except Exception as exc:
            raise self._fail(f"delete {key!r}", exc) from None


def _short(exc: Exception) -> str:
    """A one-line reason: unwraps urllib3's retry wrapper to the connection error underneath."""
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        reason = exc.reason
        if isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError):
            text = str(reason).rsplit(": ", 1)[-1]
            return f"cannot connect ({text})"
        exc = reason  # type: ignore[assignment]
    if isinstance(exc, S3Error):
        return exc.message or exc.code
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
