#!/usr/bin/env bash
# Cloud target helper (the console and `mcloud-tui --headless` run the same steps through the ops core).
#   scripts/cloud-deploy.sh [deploy]   inventory from `terraform output`, then ansible-playbook deploy.yml
#   scripts/cloud-deploy.sh teardown   ansible-playbook teardown.yml (the VMs go with `terraform destroy`)
#   scripts/cloud-deploy.sh preflight [init|plan]
#                                      name everything `terraform plan/apply` still needs, exit 1 if any
#   scripts/cloud-deploy.sh status     GET /health of the control plane and worker on all three public IPs
# TF_DIR (default terraform/) picks the Terraform root; ANSIBLE_PLAYBOOK the ansible-playbook binary.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tf_dir="${TF_DIR:-$repo/terraform}"
inventory="$repo/ansible/inventory/hosts.ini"
playbook_bin="${ANSIBLE_PLAYBOOK:-$repo/.venv/bin/ansible-playbook}"
[[ -x "$playbook_bin" ]] || playbook_bin="ansible-playbook"

die() { echo "cloud-deploy: $*" >&2; exit 1; }

expand_home() { local p="$1"; [[ "$p" == "~/"* ]] && p="$HOME/${p#\~/}"; printf '%s' "$p"; }

preflight() {
  local stage="${1:-plan}" missing=()
  local tfvars="$tf_dir/terraform.tfvars"
  command -v terraform >/dev/null 2>&1 \
    || missing+=("terraform: not on PATH; install Terraform >= 1.6 (https://developer.hashicorp.com/terraform/install)")
  if [[ "$stage" != "init" ]]; then
    if [[ -f "$tfvars" ]]; then
      local key
      key="$(sed -n 's/^[[:space:]]*ssh_key_path[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' "$tfvars" | tail -1)"
      key="$(expand_home "${key:-~/.ssh/id_ed25519}")"
      [[ -f "$key.pub" ]] || missing+=("SSH key: $key.pub not found; create one (ssh-keygen -t ed25519) or set ssh_key_path in terraform/terraform.tfvars")
    else
      missing+=("terraform/terraform.tfvars: missing; copy terraform/terraform.tfvars.example and set admin_cidr, gcp_project_id, azure_subscription_id, ssh_key_path")
    fi
    if [[ -z "${AWS_ACCESS_KEY_ID:-}" && -z "${AWS_PROFILE:-}" && -z "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" \
          && ! -f "$HOME/.aws/credentials" && ! -f "$HOME/.aws/config" ]]; then
      missing+=("AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run \`aws configure\`)")
    fi
    if [[ -n "${GOOGLE_APPLICATION_CREDENTIALS:-}" && ! -f "${GOOGLE_APPLICATION_CREDENTIALS}" ]]; then
      missing+=("GCP credentials: GOOGLE_APPLICATION_CREDENTIALS points at ${GOOGLE_APPLICATION_CREDENTIALS}, which does not exist")
    elif [[ -z "${GOOGLE_APPLICATION_CREDENTIALS:-}" && -z "${GOOGLE_CREDENTIALS:-}" \
          && ! -f "$HOME/.config/gcloud/application_default_credentials.json" ]]; then
      missing+=("GCP credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file (or run \`gcloud auth application-default login\`)")
    fi
    if [[ -z "${ARM_CLIENT_ID:-}" && ! -f "$HOME/.azure/azureProfile.json" ]]; then
      missing+=("Azure credentials: set ARM_SUBSCRIPTION_ID, ARM_TENANT_ID, ARM_CLIENT_ID and ARM_CLIENT_SECRET (or run \`az login\`)")
    fi
    [[ -d "$tf_dir/.terraform" ]] \
      || missing+=("terraform/.terraform: providers not installed; run \`make cloud-init\` first")
  fi
  if ((${#missing[@]})); then
    echo "cloud $stage cannot start; provide:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
  fi
}

tf_output() { terraform -chdir="$tf_dir" output -raw "$1" 2>/dev/null; }

status() {
  command -v terraform >/dev/null 2>&1 || die "terraform not on PATH"
  local failed=0 cloud ip port body
  for cloud in aws gcp azure; do
    ip="$(tf_output "${cloud}_ip")" || die "no ${cloud}_ip in $tf_dir's outputs: nothing deployed (make cloud-up)"
    for port in 8080 8081; do
      if body="$(curl -fsS --max-time 5 "http://$ip:$port/health")"; then
        printf '%-6s %-15s :%s ok   %s\n' "$cloud" "$ip" "$port" "$body"
      else
        printf '%-6s %-15s :%s DOWN\n' "$cloud" "$ip" "$port"
        failed=1
      fi
    done
  done
  return "$failed"
}

deploy() {
  "$repo/ansible/inventory/generate.sh" "$tf_dir" "$inventory"
  cd "$repo/ansible"
  "$playbook_bin" -i "$inventory" playbooks/deploy.yml "$@"
}

teardown() {
  "$repo/ansible/inventory/generate.sh" "$tf_dir" "$inventory"
  cd "$repo/ansible"
  "$playbook_bin" -i "$inventory" playbooks/teardown.yml "$@"
}

cmd="${1:-deploy}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  deploy) deploy "$@" ;;
  teardown) teardown "$@" ;;
  preflight) preflight "$@" ;;
  status) status ;;
  *) die "unknown command $cmd (deploy | teardown | preflight [init|plan] | status)" ;;
esac
