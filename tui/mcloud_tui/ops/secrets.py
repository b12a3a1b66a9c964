"""Read a deployment's secrets (created by Ansible's password lookup in group_vars/all.yml).

The files hold the password first; the lookup may append ``salt=...``/``ident=...`` after a space, so only
the first token counts. Values are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SECRET_NAMES = ("raft_password", "auth_token", "minio_access_key", "minio_secret_key")


class SecretsError(RuntimeError):
    """A secret file is missing or empty (the deployment was never deployed, or the dir was removed)."""


@dataclass(frozen=True, repr=False)
class Secrets:
    raft_password: str
    auth_token: str
    minio_access_key: str
    minio_secret_key: str

    def __repr__(self) -> str:  # never leak values into logs or tracebacks
        return "Secrets(<redacted>)"


def read_secret(directory: Path, name: str) -> str:
    path = directory / name
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise SecretsError(f"secret {name!r} missing: {path} (deploy first)") from None
    value = text.split()[0] if text else ""
    if not value:
        raise SecretsError(f"secret {name!r} is empty: {path}")
    return value


def load_secrets(directory: Path) -> Secrets:
    """All four secrets of one deployment; SecretsError naming the first one missing."""
    return Secrets(**{n: read_secret(directory, n) for n in SECRET_NAMES})
