"""Terraform without providers: formatting and the structure of the cloud root and its three modules.

Parsed with python-hcl2, so these checks run where no provider can be downloaded. They pin the security
and cost properties the design promises: which sources reach which ports, spot and GPU switches, tags,
IMDSv2, encrypted disks and the output names the inventory script reads.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from infra_support import REPO, TERRAFORM_DIR, require_tool

pytestmark = pytest.mark.infra

MODULES = {"aws": "aws-node", "gcp": "gcp-node", "azure": "azure-node"}
# (from_port, to_port, source) where source is "peers" (the two other nodes' /32s) or "admin" (admin_cidr)
EXPECTED_INGRESS = {
    (7000, 7000, "peers"),
    (50051, 50051, "peers"),
    (8080, 8085, "peers"),
    (9000, 9000, "peers"),
    (22, 22, "admin"),
    (8080, 8085, "admin"),
}
INVENTORY_OUTPUTS = {"aws_ip", "gcp_ip", "azure_ip", "target", "deployment_name", "ssh_user", "nodes"}
OPTIONS = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)


@dataclass(frozen=True)
class Config:
    """One Terraform directory, parsed: resources by (type, name), locals, variables, outputs."""

    resources: dict[tuple[str, str], dict[str, Any]]
    locals: dict[str, Any]
    variables: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    text: str


@cache
def load(directory: Path) -> Config:
    resources: dict[tuple[str, str], dict[str, Any]] = {}
    local_values: dict[str, Any] = {}
    variables: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, Any]] = {}
    text = ""
    for path in sorted(directory.glob("*.tf")):
        text += path.read_text()
        with path.open() as fh:
            doc = hcl2.load(fh, serialization_options=OPTIONS)
        for item in doc.get("resource", []):
            for rtype, named in item.items():
                for name, body in named.items():
                    resources[(rtype, name)] = body
        for item in doc.get("locals", []):
            local_values.update(item)
        for item in doc.get("variable", []):
            variables.update(item)
        for item in doc.get("output", []):
            outputs.update(item)
    return Config(resources, local_values, variables, outputs, text)


def module(cloud: str) -> Config:
    return load(TERRAFORM_DIR / "modules" / MODULES[cloud])


def source_kind(expr: Any) -> str:
    """Classify a firewall source expression as peers / admin, refusing anything else."""
    flat = expr if isinstance(expr, str) else " ".join(map(str, expr))
    if "0.0.0.0/0" in flat or flat.strip() in ("*", "Internet", "Any"):
        return "ANYWHERE"
    if flat == "${var.peer_cidrs}":
        return "peers"
    if flat == "${var.admin_cidr}":
        return "admin"
    return f"UNKNOWN({flat})"


def port_range(text: str) -> tuple[int, int]:
    low, _, high = str(text).partition("-")
    return int(low), int(high or low)


def expand_dynamic(cfg: Config, body: dict[str, Any], block: str) -> list[dict[str, Any]]:
    """Static `block` entries plus `dynamic "block"` entries expanded over a local list."""
    entries = list(body.get(block, []))
    for dyn in body.get("dynamic", []):
        if block not in dyn:
            continue
        spec = dyn[block]
        match = re.fullmatch(r"\$\{local\.(\w+)\}", spec["for_each"])
        assert match, f"dynamic {block} iterates over {spec['for_each']}, not a local list"
        for value in cfg.locals[match.group(1)]:
            content = dict(spec["content"][0])
            for key, expr in content.items():
                if isinstance(expr, str):
                    ref = re.fullmatch(rf"\$\{{{block}\.value\.(\w+)\}}", expr)
                    if ref:
                        content[key] = value[ref.group(1)]
            entries.append(content)
    return entries


def aws_ingress() -> set[tuple[int, int, str]]:
    cfg = module("aws")
    rules = set()
    for (rtype, _), body in cfg.resources.items():
        if rtype != "aws_security_group":
            continue
        for rule in expand_dynamic(cfg, body, "ingress"):
            assert rule["protocol"] == "tcp" and rule.get("description"), rule
            rules.add((int(rule["from_port"]), int(rule["to_port"]), source_kind(rule["cidr_blocks"])))
    assert not any(rtype.endswith("security_group_ingress_rule") for rtype, _ in cfg.resources)
    assert not any(rtype == "aws_security_group_rule" for rtype, _ in cfg.resources)
    return rules


def gcp_ingress() -> set[tuple[int, int, str]]:
    rules = set()
    for (rtype, _), body in module("gcp").resources.items():
        if rtype != "google_compute_firewall":
            continue
        assert body.get("direction", "INGRESS") == "INGRESS"
        assert "deny" not in body
        kind = source_kind(body["source_ranges"])
        for allow in body["allow"]:
            assert allow["protocol"] == "tcp"
            for ports in allow["ports"]:
                rules.add((*port_range(ports), kind))
    return rules


def azure_ingress() -> set[tuple[int, int, str]]:
    rules = set()
    for (rtype, _), body in module("azure").resources.items():
        if rtype == "azurerm_network_security_rule":
            pytest.fail("NSG rules are expected inline (security_rule blocks)")
        if rtype != "azurerm_network_security_group":
            continue
        for rule in body["security_rule"]:
            if rule["direction"] != "Inbound":
                continue
            assert rule["access"] == "Allow" and rule["protocol"] == "Tcp"
            source = rule.get("source_address_prefixes") or rule.get("source_address_prefix")
            kind = source_kind(source)
            ports = rule.get("destination_port_ranges") or [rule["destination_port_range"]]
            for p in ports:
                rules.add((*port_range(p), kind))
    return rules


def test_terraform_fmt_check() -> None:
    terraform = require_tool("terraform")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("collect", [aws_ingress, gcp_ingress, azure_ingress], ids=["aws", "gcp", "azure"])
def test_firewall_admits_exactly_peers_and_admin(collect) -> None:
    assert collect() == EXPECTED_INGRESS


def test_root_feeds_each_module_the_other_two_addresses() -> None:
    root = load(TERRAFORM_DIR)
    text = root.text
    for cloud in MODULES:
        others = [c for c in MODULES if c != cloud]
        block = re.search(rf'module "{cloud}" \{{(.*?)\n\}}', text, re.S)
        assert block, f"module {cloud} missing from terraform/main.tf"
        peers = re.search(r"peer_cidrs\s*=\s*\[(.*?)\]", block.group(1)).group(1)
        assert re.findall(r"module\.(\w+)\.public_ip\}/32", peers) == others


@pytest.mark.parametrize("cloud", MODULES)
def test_admin_cidr_refuses_anywhere(cloud: str) -> None:
    for cfg in (load(TERRAFORM_DIR), module(cloud)):
        conditions = " ".join(v["condition"] for v in cfg.variables["admin_cidr"]["validation"])
        assert '!= "0.0.0.0/0"' in conditions


def test_aws_egress_is_not_open_on_every_port() -> None:
    cfg = module("aws")
    for rule in expand_dynamic(cfg, cfg.resources[("aws_security_group", "node")], "egress"):
        if source_kind(rule["cidr_blocks"]) == "ANYWHERE":
            assert rule["protocol"] == "tcp" and (rule["from_port"], rule["to_port"]) in {
                (80, 80),
                (443, 443),
            }


def test_static_addresses_exist_and_are_module_outputs() -> None:
    aws, gcp, azure = module("aws"), module("gcp"), module("azure")
    assert aws.resources[("aws_eip", "this")]["domain"] == "vpc"
    assert ("aws_eip_association", "this") in aws.resources
    assert gcp.resources[("google_compute_address", "this")]["address_type"] == "EXTERNAL"
    nic = gcp.resources[("google_compute_instance", "this")]["network_interface"][0]
    assert nic["access_config"][0]["nat_ip"] == "${google_compute_address.this.address}"
    pip = azure.resources[("azurerm_public_ip", "this")]
    assert (pip["allocation_method"], pip["sku"]) == ("Static", "Standard")
    assert aws.outputs["public_ip"]["value"] == "${aws_eip.this.public_ip}"
    assert gcp.outputs["public_ip"]["value"] == "${google_compute_address.this.address}"
    assert azure.outputs["public_ip"]["value"] == "${azurerm_public_ip.this.ip_address}"


def test_spot_switched_by_use_spot() -> None:
    for cfg in (load(TERRAFORM_DIR), *map(module, MODULES)):
        assert cfg.variables["use_spot"]["default"] is True
    aws = module("aws").resources[("aws_instance", "this")]
    market = next(d["instance_market_options"] for d in aws["dynamic"] if "instance_market_options" in d)
    assert market["for_each"] == "${var.use_spot ? [1] : []}"
    assert market["content"][0]["market_type"] == "spot"
    sched = module("gcp").resources[("google_compute_instance", "this")]["scheduling"][0]
    assert sched["provisioning_model"] == '${var.use_spot ? "SPOT" : "STANDARD"}'
    assert sched["automatic_restart"] == "${var.use_spot ? false : true}"
    assert "var.use_spot" in sched["on_host_maintenance"] and '"TERMINATE"' in sched["on_host_maintenance"]
    vm = module("azure").resources[("azurerm_linux_virtual_machine", "this")]
    assert vm["priority"] == '${var.use_spot ? "Spot" : "Regular"}'
    assert vm["eviction_policy"] == '${var.use_spot ? "Delete" : null}'
    assert vm["max_bid_price"] == "${var.use_spot ? -1 : null}"


def test_gpu_switched_by_enable_gpu() -> None:
    for cfg in (load(TERRAFORM_DIR), *map(module, MODULES)):
        assert cfg.variables["enable_gpu"]["default"] is False
    aws, gcp, azure = module("aws"), module("gcp"), module("azure")
    assert aws.variables["instance_type"]["default"] == "t3.large"
    assert aws.variables["gpu_instance_type"]["default"] == "g4dn.xlarge"
    assert aws.locals["instance_type"] == "${var.enable_gpu ? var.gpu_instance_type : var.instance_type}"
    assert aws.resources[("aws_instance", "this")]["instance_type"] == "${local.instance_type}"
    assert gcp.variables["machine_type"]["default"] == "e2-standard-2"
    assert gcp.variables["gpu_machine_type"]["default"] == "n1-standard-4"
    assert gcp.variables["gpu_accelerator_type"]["default"] == "nvidia-tesla-t4"
    assert gcp.locals["machine_type"] == "${var.enable_gpu ? var.gpu_machine_type : var.machine_type}"
    gvm = gcp.resources[("google_compute_instance", "this")]
    accel = next(d["guest_accelerator"] for d in gvm["dynamic"] if "guest_accelerator" in d)
    assert accel["for_each"] == "${var.enable_gpu ? [1] : []}"
    assert accel["content"][0] == {"type": "${var.gpu_accelerator_type}", "count": 1}
    assert "var.enable_gpu" in gvm["scheduling"][0]["on_host_maintenance"]
    assert azure.variables["vm_size"]["default"] == "Standard_D2s_v5"
    assert azure.variables["gpu_vm_size"]["default"] == "Standard_NC4as_T4_v3"
    assert azure.locals["vm_size"] == "${var.enable_gpu ? var.gpu_vm_size : var.vm_size}"
    assert azure.resources[("azurerm_linux_virtual_machine", "this")]["size"] == "${local.vm_size}"


def test_imdsv2_and_encrypted_disks() -> None:
    aws = module("aws").resources[("aws_instance", "this")]
    assert aws["metadata_options"][0]["http_tokens"] == "required"
    assert aws["root_block_device"][0]["encrypted"] is True
    gcp = module("gcp").resources[("google_compute_instance", "this")]
    assert gcp["shielded_instance_config"][0]["enable_secure_boot"] is True
    # GCP encrypts every persistent disk at rest; no unencrypted option exists.
    azure = module("azure").resources[("azurerm_linux_virtual_machine", "this")]
    assert azure["encryption_at_host_enabled"] == "${var.encryption_at_host}"
    assert module("azure").variables["encryption_at_host"]["default"] is True
    assert azure["disable_password_authentication"] is True
    # Trusted Launch: secure boot + vTPM, like GCP's shielded VM (azurerm_linux_virtual_machine arguments).
    assert (azure["secure_boot_enabled"], azure["vtpm_enabled"]) == (True, True)


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_ssh_key_validation_refuses_ecdsa_where_the_cloud_does(cloud: str) -> None:
    """EC2 ImportKeyPair and azurerm's admin_ssh_key accept only RSA and ED25519 public keys."""
    conditions = " ".join(v["condition"] for v in module(cloud).variables["ssh_public_key"]["validation"])
    assert "ssh-(ed25519|rsa)" in conditions and "ecdsa" not in conditions


# Resource types whose provider API has no tags/labels argument.
UNTAGGABLE = {
    "aws_route_table_association",
    "aws_iam_role_policy",
    "aws_eip_association",
    "google_compute_network",
    "google_compute_subnetwork",
    "google_compute_firewall",
    "azurerm_subnet",
    "azurerm_subnet_network_security_group_association",
    "azurerm_network_interface_security_group_association",
}


@pytest.mark.parametrize("cloud", MODULES)
def test_every_taggable_resource_carries_the_deployment(cloud: str) -> None:
    cfg = module(cloud)
    key = "labels" if cloud == "gcp" else "tags"
    assert "deployment = var.deployment_name" in cfg.locals[key]
    for (rtype, name), body in cfg.resources.items():
        if rtype in UNTAGGABLE:
            continue
        assert f"local.{key}" in str(body.get(key, "")), f"{rtype}.{name} lacks {key} = local.{key}"
        name_expr = str(body.get("name", "${local.name}"))
        assert (
            "local.name" in name_expr or "var.deployment_name" in name_expr or rtype == "aws_iam_role_policy"
        )


def test_variables_typed_and_described_outputs_described() -> None:
    for cfg in (load(TERRAFORM_DIR), *map(module, MODULES)):
        for name, var in cfg.variables.items():
            assert var.get("type") and var.get("description"), f"variable {name} needs type and description"
        for name, out in cfg.outputs.items():
            assert out.get("description"), f"output {name} needs a description"


def test_root_variables_and_pinned_providers() -> None:
    root = load(TERRAFORM_DIR)
    for name in ("enable_gpu", "use_spot", "ssh_key_path", "admin_cidr", "deployment_name", "gcp_project_id"):
        assert name in root.variables
    assert {"azure_subscription_id", "aws_region", "gcp_region", "azure_location"} <= root.variables.keys()
    versions = (TERRAFORM_DIR / "versions.tf").read_text()
    for provider, pin in (("aws", r"~> 5\.\d+"), ("google", r"~> 6\.\d+"), ("azurerm", r"~> 4\.\d+")):
        assert re.search(
            rf'{provider}\s*=\s*\{{\s*source\s*=\s*"hashicorp/{provider}"\s*version\s*=\s*"{pin}"', versions
        )
    assert re.search(r'#\s*backend "s3"', root.text), "documented remote-state backend block"


def test_inventory_outputs_exist_in_both_roots() -> None:
    assert load(TERRAFORM_DIR).outputs.keys() >= INVENTORY_OUTPUTS
    local_root = TERRAFORM_DIR / "local"
    if not (local_root / "outputs.tf").exists() and not list(local_root.glob("*.tf")):
        pytest.skip("terraform/local not written yet (local-target work)")
    assert load(local_root).outputs.keys() >= INVENTORY_OUTPUTS


def test_aws_module_validates_with_a_local_provider_mirror(tmp_path: Path) -> None:
    """`terraform validate` needs the provider schema: run it where a filesystem mirror has the AWS provider."""
    mirror = Path("/opt/tf-plugins")
    if not (mirror / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip("no local mirror of hashicorp/aws (providers cannot be downloaded here)")
    terraform = require_tool("terraform")
    work = tmp_path / "aws-node"
    work.mkdir()
    for tf in (TERRAFORM_DIR / "modules" / "aws-node").glob("*.tf"):
        (work / tf.name).write_text(tf.read_text())
    init = subprocess.run(
        [terraform, f"-chdir={work}", "init", "-backend=false", "-input=false", f"-plugin-dir={mirror}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if init.returncode != 0:
        pytest.skip(f"mirror does not satisfy the pin: {init.stderr.strip().splitlines()[-1:]}")
    result = subprocess.run(
        [terraform, f"-chdir={work}", "validate", "-no-color"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_tfvars_example_covers_required_variables() -> None:
    example = (TERRAFORM_DIR / "terraform.tfvars.example").read_text()
    for name, var in load(TERRAFORM_DIR).variables.items():
        if "default" not in var:
            assert re.search(rf"^{name}\s*=", example, re.M), f"terraform.tfvars.example lacks {name}"
    assert (REPO / ".gitignore").read_text().count("terraform/terraform.tfvars") == 1
