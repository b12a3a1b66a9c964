"""checkov over terraform/: zero failed checks, and every skip is inline with a reason."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from infra_support import REPO, TERRAFORM_DIR, require_tool

pytestmark = pytest.mark.infra

# A public IP per node is the design (three clouds talk over public addresses admitted per /32);
# GCP CMEK needs a KMS key ring, which GCP never deletes (docs in the module).
ALLOWED_SKIPS = {"CKV_GCP_40", "CKV_AZURE_119", "CKV_GCP_38"}


@pytest.fixture(scope="module")
def checkov_report() -> list[dict[str, Any]]:
    """Run checkov once per module (it takes several seconds)."""
    checkov = require_tool("checkov", REPO / ".venv-tools" / "bin" / "checkov")
    result = subprocess.run(
        [
            checkov,
            "-d",
            str(TERRAFORM_DIR),
            "--framework",
            "terraform",
            "--skip-download",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip(), f"checkov printed nothing (rc {result.returncode}): {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    return report if isinstance(report, list) else [report]


def test_checkov_finds_no_failed_checks(checkov_report: list[dict[str, Any]]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for report in checkov_report
        for c in report["results"]["failed_checks"]
    ]
    passed = sum(len(report["results"]["passed_checks"]) for report in checkov_report)
    assert passed > 50, "checkov ran almost no checks: did it parse terraform/?"
    assert not failed, "checkov failed:\n" + "\n".join(failed)


def test_every_skip_is_inline_with_a_reason(checkov_report: list[dict[str, Any]]) -> None:
    skipped = {c["check_id"] for report in checkov_report for c in report["results"]["skipped_checks"]}
    assert skipped <= ALLOWED_SKIPS, f"unexpected skips: {skipped - ALLOWED_SKIPS}"
    for tf in TERRAFORM_DIR.rglob("*.tf"):
        for line in tf.read_text().splitlines():
            if "checkov:skip" in line:
                assert re.search(r"#checkov:skip=CKV2?_[A-Z]+_\d+:\S.{20,}", line), (
                    f"{tf}: skip without a reason: {line}"
                )
