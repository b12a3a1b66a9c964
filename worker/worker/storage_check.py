"""`python -m worker.storage_check ENDPOINT...`: put / get / list / delete round trip against each endpoint.

The storage smoke test behind ``scripts/test-storage.sh``. Credentials come from MINIO_ACCESS_KEY /
MINIO_SECRET_KEY (never printed), the bucket from MINIO_BUCKET (default "mcloud"). Prints one line per
endpoint, "ok" or what failed; exits 1 when any endpoint failed, 2 on bad arguments or env.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import time

from worker.storage import Storage, StorageConfig, StorageError


def round_trip(storage: Storage, *, create_bucket: bool = True) -> float:
    """Put, get, list and delete one fresh object; returns seconds taken, raises StorageError / AssertionError."""
    t0 = time.monotonic()
    if create_bucket:
        storage.ensure_bucket()
    key = f"smoke/{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}.bin"
    data = secrets.token_bytes(4096)
    storage.put_bytes(key, data)
    try:
        got = storage.get_bytes(key)
        if got != data:
            raise AssertionError(
                f"get {key!r} returned {len(got)} bytes that differ from the {len(data)} put"
            )
        listed = storage.list_keys("smoke/")
        if key not in listed:
            raise AssertionError(f"list 'smoke/' does not show {key!r}")
    finally:
        storage.delete(key)
    if key in storage.list_keys("smoke/"):
        raise AssertionError(f"{key!r} is still listed after delete")
    return time.monotonic() - t0


def main(argv: list[str] | None = None) -> int:
    """Check every endpoint; exit code 0 only when all passed."""
    ap = argparse.ArgumentParser(prog="test-storage", description="S3 put/get/list/delete round trip")
    ap.add_argument(
        "endpoints", nargs="+", metavar="ENDPOINT", help="host or host:port (port 9000 when omitted)"
    )
    ap.add_argument("--no-create-bucket", action="store_true", help="fail when the bucket is missing")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per call")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    failed = 0
    for ep in args.endpoints:
        endpoint = ep if ":" in ep.rsplit("]", 1)[-1] else f"{ep}:9000"
        env["MINIO_ENDPOINT"] = endpoint
        try:
            cfg = StorageConfig.from_env(env)
        except ValueError as exc:
            print(f"storage test: {exc}", file=sys.stderr)
            return 2
        assert cfg is not None
        try:
            secs = round_trip(
                Storage(cfg, timeout_s=args.timeout, retries=1), create_bucket=not args.no_create_bucket
            )
            print(f"storage {endpoint} bucket {cfg.bucket}: ok (put/get/list/delete in {secs * 1000:.0f} ms)")
        except (StorageError, AssertionError) as exc:
            failed += 1
            print(f"storage {endpoint} bucket {cfg.bucket}: FAILED: {exc}", file=sys.stderr)
    if failed:
        print(f"storage test: {failed} of {len(args.endpoints)} endpoint(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
