"""Ansible without hosts: lint (production profile), syntax, the inventory script on recorded Terraform
outputs, and env.j2 / docker-compose.cloud.j2 rendered by the real role for every host."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from infra_support import ANSIBLE_DIR, FIXTURES, VENV_BIN, require_tool

pytestmark = pytest.mark.infra

CLOUD_IPS = {"aws": "203.0.113.10", "gcp": "198.51.100.20", "azure": "192.0.2.30"}
LOCAL_IPS = {"aws": "127.0.1.1", "gcp": "127.0.2.1", "azure": "127.0.3.1"}
SECRETS = ("raft_password", "auth_token", "minio_access_key", "minio_secret_key")


def ansible_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_ROLES_PATH=str(ANSIBLE_DIR / "roles"),
        ANSIBLE_LOCAL_TEMP=extra.pop("ANSIBLE_LOCAL_TEMP", "/tmp"),
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


def generate(
    fake_terraform: Path, fixture: Path | None, out: Path, **env: str
) -> subprocess.CompletedProcess:
    run_env = {**os.environ, "PATH": f"{fake_terraform}:{os.environ['PATH']}", **env}
    if fixture is not None:
        run_env["FAKE_TF_OUTPUT"] = str(fixture)
    return subprocess.run(
        [str(ANSIBLE_DIR / "inventory" / "generate.sh"), "terraform", str(out)],
        capture_output=True,
        text=True,
        env=run_env,
        timeout=30,
    )


def test_ansible_lint_production_profile() -> None:
    lint = require_tool("ansible-lint", VENV_BIN / "ansible-lint")
    result = subprocess.run(
        [lint, "--profile", "production", "--offline", "--nocolor"],
        cwd=ANSIBLE_DIR,
        capture_output=True,
        text=True,
        env=ansible_env(),
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in result.stderr + result.stdout


@pytest.mark.parametrize("playbook", ["deploy.yml", "teardown.yml"])
def test_playbook_syntax(playbook: str, fake_terraform: Path, tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    assert generate(fake_terraform, FIXTURES / "tf_output_cloud.json", inventory).returncode == 0
    binary = require_tool("ansible-playbook", VENV_BIN / "ansible-playbook")
    result = subprocess.run(
        [binary, "--syntax-check", "-i", str(inventory), f"playbooks/{playbook}"],
        cwd=ANSIBLE_DIR,
        capture_output=True,
        text=True,
        env=ansible_env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generate_cloud_inventory(fake_terraform: Path, tmp_path: Path) -> None:
    out = tmp_path / "inv" / "hosts.ini"
    result = generate(fake_terraform, FIXTURES / "tf_output_cloud.json", out)
    assert result.returncode == 0, result.stderr
    lines = [line for line in out.read_text().splitlines() if line and not line.startswith("#")]
    assert lines == [
        "[aws]",
        "aws ansible_host=203.0.113.10 cloud=aws node_id=cp-aws worker_id=worker-aws instance_type=t3.large"
        " spot=true gpu=false region=us-east-1",
        "[gcp]",
        "gcp ansible_host=198.51.100.20 cloud=gcp node_id=cp-gcp worker_id=worker-gcp instance_type=e2-standard-2"
        " spot=true gpu=false region=us-central1",
        "[azure]",
        "azure ansible_host=192.0.2.30 cloud=azure node_id=cp-azure worker_id=worker-azure"
        " instance_type=Standard_D2s_v5 spot=true gpu=false region=eastus",
        "[storage]",
        "aws",
        "[pipeline:children]",
        "aws",
        "gcp",
        "azure",
        "[pipeline:vars]",
        "mcloud_target=cloud",
        "pipeline_runtime=compose",
        "ansible_connection=ssh",
        "ansible_user=ubuntu",
        "ansible_ssh_private_key_file=/home/op/.ssh/id_ed25519",
        "ansible_ssh_common_args='-o StrictHostKeyChecking=accept-new'",
        "deployment_name=mcloud-test",
    ]


def test_generate_local_inventory(fake_terraform: Path, tmp_path: Path) -> None:
    out = tmp_path / "hosts.ini"
    result = generate(fake_terraform, FIXTURES / "tf_output_local.json", out)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "aws ansible_host=127.0.1.1 cloud=aws node_id=cp-aws" in text
    assert "instance_type=local-process spot=false gpu=false region=loopback" in text
    assert "pipeline_runtime=process\nansible_connection=local\n" in text
    assert "ansible_user" not in text and "mcloud_target=local" in text


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{}", "state is empty"),
        ('{"aws_ip": {"value": "1.2.3.4"}}', "lack gcp_ip, azure_ip, target"),
    ],
)
def test_generate_refuses_incomplete_outputs(
    fake_terraform: Path, tmp_path: Path, payload: str, message: str
) -> None:
    fixture = tmp_path / "out.json"
    fixture.write_text(payload)
    out = tmp_path / "hosts.ini"
    result = generate(fake_terraform, fixture, out)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_generate_reports_terraform_failure(fake_terraform: Path, tmp_path: Path) -> None:
    result = generate(fake_terraform, None, tmp_path / "hosts.ini", FAKE_TF_FAIL="no state")
    assert result.returncode == 1
    assert "output -json` failed" in result.stderr and "init" in result.stderr


def render(
    fake_terraform: Path, fixture: Path, tmp_path: Path, *extra_vars: str
) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """Render every host's configuration with the real role (tasks/config.yml) into tmp_path/out/<host>."""
    inv_dir = tmp_path / "inventory"
    inv_dir.mkdir()
    assert generate(fake_terraform, fixture, inv_dir / "hosts.ini").returncode == 0
    # The same group_vars the playbooks load, as inventory group_vars.
    (inv_dir / "group_vars").symlink_to(ANSIBLE_DIR / "group_vars")
    state = tmp_path / "state"
    out = tmp_path / "out"
    binary = require_tool("ansible-playbook", VENV_BIN / "ansible-playbook")
    result = subprocess.run(
        [
            binary,
            "-i",
            str(inv_dir / "hosts.ini"),
            str(FIXTURES / "render.yml"),
            "-e",
            "ansible_connection=local",
            "-e",
            "ansible_python_interpreter={{ ansible_playbook_python }}",
            "-e",
            f"pipeline_home={out}/{{{{ inventory_hostname }}}}",
            *(arg for var in extra_vars for arg in ("-e", var)),
        ],
        capture_output=True,
        text=True,
        env=ansible_env(MCLOUD_STATE_DIR=str(state), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp")),
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out, state, result


def read_env(path: Path) -> dict[str, str]:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} must be 0600"
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key.isupper() and " " not in key, f"{path}: bad line {line!r}"
        assert key not in env, f"{path}: {key} twice"
        env[key] = value
    return env


@pytest.fixture(scope="module")
def cloud_render(fake_terraform: Path, tmp_path_factory: pytest.TempPathFactory):
    return render(fake_terraform, FIXTURES / "tf_output_cloud.json", tmp_path_factory.mktemp("cloud-render"))


def test_cloud_env_files(cloud_render) -> None:
    out, state, result = cloud_render
    secrets = {name: (state / "secrets" / "mcloud-test" / name).read_text().strip() for name in SECRETS}
    assert stat.S_IMODE((state / "secrets" / "mcloud-test").stat().st_mode) == 0o700
    for name, value in secrets.items():
        assert stat.S_IMODE((state / "secrets" / "mcloud-test" / name).stat().st_mode) == 0o600
        assert len(value) >= 20 and value.isalnum()
        assert value not in result.stdout + result.stderr, f"{name} was printed"
    for host, ip in CLOUD_IPS.items():
        peers = [CLOUD_IPS[h] for h in CLOUD_IPS if h != host]
        cp = read_env(out / host / "env" / "controlplane.env")
        assert cp["NODE_ID"] == f"cp-{host}" and cp["CLOUD"] == host
        assert cp["RAFT_SELF"] == f"{ip}:7000"
        assert cp["RAFT_PEERS"] == ",".join(f"{p}:7000" for p in peers)
        assert cp["RAFT_PASSWORD"] == secrets["raft_password"] and cp["AUTH_TOKEN"] == secrets["auth_token"]
        assert (cp["GRPC_ADDR"], cp["HEALTH_ADDR"]) == ("0.0.0.0:50051", "0.0.0.0:8080")
        worker = read_env(out / host / "env" / "worker.env")
        assert worker["WORKER_ID"] == f"worker-{host}"
        # Same cloud first: the node's own control plane by compose service name, then the peers.
        assert worker["CP_ENDPOINTS"] == ",".join(["controlplane:50051"] + [f"{p}:50051" for p in peers])
        expected_minio = "minio:9000" if host == "aws" else f"{CLOUD_IPS['aws']}:9000"
        assert worker["MINIO_ENDPOINT"] == expected_minio
        assert worker["MINIO_ACCESS_KEY"] == secrets["minio_access_key"]
        assert worker["MINIO_SECRET_KEY"] == secrets["minio_secret_key"]
        assert (worker["MINIO_BUCKET"], worker["MINIO_SECURE"], worker["HEALTH_ADDR"]) == (
            "mcloud",
            "false",
            "0.0.0.0:8081",
        )
        assert (out / host / "env" / "storage.env").exists() == (host == "aws")
    storage = read_env(out / "aws" / "env" / "storage.env")
    assert storage["MINIO_ROOT_USER"] == secrets["minio_access_key"]
    assert storage["MINIO_ROOT_PASSWORD"] == secrets["minio_secret_key"]


def test_cloud_compose_files(cloud_render) -> None:
    out, _, _ = cloud_render
    for host in CLOUD_IPS:
        compose = yaml.safe_load((out / host / "docker-compose.yml").read_text())
        services = compose["services"]
        expected = {"controlplane", "worker"} | ({"minio", "minio-init"} if host == "aws" else set())
        assert set(services) == expected
        for name, svc in services.items():
            assert "network_mode" not in svc and "networks" not in svc, f"{host}/{name}: default bridge only"
        assert services["controlplane"]["ports"] == ["7000:7000", "50051:50051", "8080:8080"]
        assert services["worker"]["ports"] == ["8081:8081"]
        assert services["controlplane"]["env_file"] == [str(out / host / "env" / "controlplane.env")]
        assert services["worker"]["env_file"] == [str(out / host / "env" / "worker.env")]
        assert services["controlplane"]["build"]["dockerfile"] == "control-plane/Dockerfile"
        assert services["worker"]["build"]["args"] == {"GPU": "false"}
        assert "deploy" not in services["worker"], "no GPU reservation on CPU nodes"
        if host == "aws":
            assert services["minio"]["ports"] == ["9000:9000"]
            assert services["minio-init"]["profiles"] == ["init"], "one-shot, kept out of `up`"
            assert services["minio"]["env_file"] == [str(out / host / "env" / "storage.env")]
            assert "RELEASE." in services["minio"]["image"], "MinIO image pinned to a release"
        # `docker compose config` is the authoritative check where the plugin exists.
        docker = require_tool_optional("docker")
        if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
            check = subprocess.run(
                [docker, "compose", "-f", str(out / host / "docker-compose.yml"), "config", "-q"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert check.returncode == 0, check.stderr


def require_tool_optional(name: str) -> str | None:
    from infra_support import tool

    return tool(name)


def test_gpu_nodes_get_a_gpu_worker(fake_terraform: Path, tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "tf_output_cloud.json").read_text())
    for node in data["nodes"]["value"].values():
        node["gpu"] = True
    fixture = tmp_path / "gpu.json"
    fixture.write_text(json.dumps(data))
    (tmp_path / "run").mkdir()
    out, _, _ = render(fake_terraform, fixture, tmp_path / "run")
    compose = yaml.safe_load((out / "gcp" / "docker-compose.yml").read_text())
    worker = compose["services"]["worker"]
    assert worker["build"]["args"] == {"GPU": "true"}
    device = worker["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert read_env(out / "gcp" / "env" / "worker.env")["WORKER_GPU"] == "true"


def test_local_env_files_use_loopback_hosts(fake_terraform: Path, tmp_path: Path) -> None:
    """env.j2 is shared with the process runtime: same contract, loopback addresses, no compose file."""
    out, _, _ = render(fake_terraform, FIXTURES / "tf_output_local.json", tmp_path)
    for host, ip in LOCAL_IPS.items():
        peers = [LOCAL_IPS[h] for h in LOCAL_IPS if h != host]
        cp = read_env(out / host / "env" / "controlplane.env")
        assert cp["RAFT_SELF"] == f"{ip}:7000" and "RAFT_BIND" not in cp
        assert "RAFT_ROUTES" not in cp  # WAN off unless the ops core passes mcloud_wan=true
        assert cp["RAFT_PEERS"] == ",".join(f"{p}:7000" for p in peers)
        assert (cp["GRPC_ADDR"], cp["HEALTH_ADDR"]) == (f"{ip}:50051", f"{ip}:8080")
        worker = read_env(out / host / "env" / "worker.env")
        assert worker["CP_ENDPOINTS"] == ",".join(f"{h}:50051" for h in [ip, *peers])
        assert worker["MINIO_ENDPOINT"] == "127.0.1.1:9000"
        assert worker["HEALTH_ADDR"] == f"{ip}:8081"
        assert not (out / host / "docker-compose.yml").exists()
    storage = read_env(out / "aws" / "env" / "storage.env")
    assert storage["STORAGE_ADDR"] == "127.0.1.1:9000"


def _with_hosts(fixture: Path, hosts: dict[str, str], dest: Path) -> Path:
    data = json.loads(fixture.read_text())
    for cloud, ip in hosts.items():
        data[f"{cloud}_ip"]["value"] = ip
        data["nodes"]["value"][cloud]["public_ip"] = data["nodes"]["value"][cloud]["private_ip"] = ip
    dest.write_text(json.dumps(data))
    return dest


@pytest.mark.parametrize(
    "hosts", [LOCAL_IPS, {"aws": "127.61.7.1", "gcp": "127.61.20.1", "azure": "127.61.9.1"}]
)
def test_local_env_files_with_wan_route_cross_cloud_traffic_through_the_links(
    fake_terraform: Path, tmp_path: Path, hosts: dict[str, str]
) -> None:
    """mcloud_wan=true (the ops core's default for the local target): the env is exactly what the emulator's
    address plan (mcloud_tui.ops.wan.WanPlan) says, for the default and for other loopback addresses."""
    from mcloud_tui.ops.wan import WanPlan

    fixture = _with_hosts(FIXTURES / "tf_output_local.json", hosts, tmp_path / "tf.json")
    (tmp_path / "run").mkdir()
    out, _, _ = render(fake_terraform, fixture, tmp_path / "run", "mcloud_wan=true")
    plan = WanPlan(hosts=hosts)
    for host, ip in hosts.items():
        cp = read_env(out / host / "env" / "controlplane.env")
        peers = [hosts[h] for h in hosts if h != host]
        assert cp["RAFT_SELF"] == f"{ip}:7000"  # identities stay canonical ...
        assert cp["RAFT_PEERS"] == ",".join(f"{p}:7000" for p in peers)
        assert cp["RAFT_ROUTES"] == plan.raft_routes(host)  # ... only the connect target is the link
        worker = read_env(out / host / "env" / "worker.env")
        assert worker["CP_ENDPOINTS"] == plan.cp_endpoints(host)
        assert worker["MINIO_ENDPOINT"] == plan.minio_endpoint(host)
    assert read_env(out / "gcp" / "env" / "controlplane.env")["RAFT_ROUTES"].startswith(
        f"{hosts['aws']}:7000={hosts['aws'].rsplit('.', 1)[0]}.12:7000,"
    )


def test_cloud_env_files_ignore_the_wan_setting(fake_terraform: Path, tmp_path: Path) -> None:
    out, _, _ = render(fake_terraform, FIXTURES / "tf_output_cloud.json", tmp_path, "mcloud_wan=true")
    for host in CLOUD_IPS:
        peers = [CLOUD_IPS[h] for h in CLOUD_IPS if h != host]
        assert "RAFT_ROUTES" not in read_env(out / host / "env" / "controlplane.env")
        worker = read_env(out / host / "env" / "worker.env")
        assert worker["CP_ENDPOINTS"] == ",".join(["controlplane:50051"] + [f"{p}:50051" for p in peers])
