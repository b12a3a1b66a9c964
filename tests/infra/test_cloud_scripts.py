"""The operator's entry points without a cloud: `make cloud-plan` preflight, the deploy script, the images."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from infra_support import REPO

pytestmark = pytest.mark.infra


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """No cloud credentials, an empty HOME (no ~/.aws, gcloud or az profiles)."""
    path = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir())
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", **extra}


def test_make_cloud_plan_names_what_to_provide(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    if (REPO / "terraform" / "terraform.tfvars").exists():
        pytest.skip("a developer's terraform/terraform.tfvars exists; the check needs a pristine checkout")
    result = subprocess.run(
        ["make", "-s", "cloud-plan"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        timeout=60,
    )
    assert result.returncode != 0
    message = result.stderr
    assert "Traceback" not in message
    for needed in (
        "terraform/terraform.tfvars",
        "terraform.tfvars.example",
        "AWS_ACCESS_KEY_ID",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "ARM_SUBSCRIPTION_ID",
        "make cloud-init",
    ):
        assert needed in message, f"{needed!r} not named in:\n{message}"
    assert "Initializing" not in result.stdout, "terraform must not run before the preflight passes"


def test_preflight_passes_when_everything_is_provided(tmp_path: Path) -> None:
    tf_dir = tmp_path / "terraform"
    (tf_dir / ".terraform").mkdir(parents=True)
    key = tmp_path / "id_ed25519"
    key.write_text("private")
    key.with_suffix(".pub").write_text("ssh-ed25519 AAAA test")
    (tf_dir / "terraform.tfvars").write_text(f'admin_cidr = "203.0.113.7/32"\nssh_key_path = "{key}"\n')
    gcp_key = tmp_path / "gcp.json"
    gcp_key.write_text("{}")
    env = clean_env(
        tmp_path,
        TF_DIR=str(tf_dir),
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
        GOOGLE_APPLICATION_CREDENTIALS=str(gcp_key),
        ARM_SUBSCRIPTION_ID="00000000-0000-0000-0000-000000000000",
        ARM_CLIENT_ID="c",
    )
    script = REPO / "scripts" / "cloud-deploy.sh"
    if shutil.which("terraform", path=env["PATH"]) is None:
        pytest.skip("terraform not installed")
    ok = subprocess.run(
        [str(script), "preflight", "plan"], capture_output=True, text=True, env=env, timeout=30
    )
    assert ok.returncode == 0, ok.stderr
    key.with_suffix(".pub").unlink()
    missing_key = subprocess.run(
        [str(script), "preflight"], capture_output=True, text=True, env=env, timeout=30
    )
    assert missing_key.returncode == 1 and f"{key}.pub not found" in missing_key.stderr


def test_makefile_cloud_targets_use_the_shared_core() -> None:
    makefile = (REPO / "Makefile").read_text()
    for target in ("cloud-init", "cloud-plan", "cloud-up", "cloud-down", "cloud-status"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "mcloud-tui --headless up --target cloud" in makefile
    assert "mcloud-tui --headless down --target cloud" in makefile
    assert "checkov==3.3.30" in makefile


@pytest.mark.parametrize(
    ("dockerfile", "command", "port"),
    [("control-plane/Dockerfile", "mcloud-cp", "8080"), ("worker/Dockerfile", "mcloud-worker", "8081")],
)
def test_dockerfiles_small_non_root_with_healthcheck(dockerfile: str, command: str, port: str) -> None:
    text = (REPO / dockerfile).read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) == 2 and all("slim" in s or s == "${PYTHON_IMAGE}" for s in stages), (
        "multi-stage, slim base"
    )
    assert "python:3.11-slim" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0"), "runs as a non-root user"
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", text, re.M)
    assert f'CMD ["{command}"]' in text
    assert f"HEALTH_ADDR=0.0.0.0:{port}" in text
    assert "-c constraints.txt" in text, "installs with the pinned constraints"


def test_worker_dockerfile_switches_torch_build_by_gpu_arg() -> None:
    text = (REPO / "worker" / "Dockerfile").read_text()
    assert "ARG GPU=false" in text
    assert "download.pytorch.org/whl/cpu" in text and re.search(r"download\.pytorch\.org/whl/cu\d+", text)
    assert re.search(r'if \[ "\$GPU" = "true" \]; then index="\$TORCH_CUDA_INDEX"', text)
