#!/usr/bin/env bash
# Storage smoke test: put / get / list / delete one object on every S3 endpoint given (cloud IPs or local
# addresses), with the deployment's credentials from MINIO_ACCESS_KEY / MINIO_SECRET_KEY (never printed)
# and bucket MINIO_BUCKET (default mcloud).
#
#   scripts/test-storage.sh ENDPOINT...        ENDPOINT = host[:port], port 9000 when omitted
#
# Exit 0 when every endpoint passed; 1 with one line per failed endpoint; 2 on usage / missing credentials.
set -euo pipefail

usage() { echo "usage: $0 ENDPOINT... (host[:port]; needs MINIO_ACCESS_KEY and MINIO_SECRET_KEY)" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
case "${1:-}" in -h|--help) usage ;; esac
for var in MINIO_ACCESS_KEY MINIO_SECRET_KEY; do
  if [[ -z "${!var:-}" ]]; then
    echo "test-storage: $var is not set (the storage credentials of the deployment)" >&2
    exit 2
  fi
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-}"
if [[ -z "$py" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then py="$root/.venv/bin/python"; else py="$(command -v python3 || true)"; fi
fi
if [[ -z "$py" ]] || ! "$py" -c "import minio" 2>/dev/null; then
  echo "test-storage: no python with the minio SDK (run 'make setup' or set PYTHON=...)" >&2
  exit 2
fi
export PYTHONPATH="$root/worker${PYTHONPATH:+:$PYTHONPATH}"
exec "$py" -m worker.storage_check "$@"
