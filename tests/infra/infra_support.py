"""Helpers shared by the static infrastructure checks (Terraform, checkov, Ansible, scripts)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
ANSIBLE_DIR = REPO / "ansible"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
VENV_BIN = REPO / ".venv" / "bin"


def tool(name: str, *candidates: Path) -> str | None:
    """First existing candidate path, else the tool on PATH, else None."""
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return shutil.which(name)


def require_tool(name: str, *candidates: Path) -> str:
    """Locate a tool; absent tools skip locally but fail under CI=true (a skipped check is no check)."""
    found = tool(name, *candidates)
    if found is None:
        message = (
            f"{name} not found (looked in {', '.join(map(str, candidates)) or 'PATH'}); run `make setup`"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found
