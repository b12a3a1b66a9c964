# One terraform_data resource per "VM". It stores what a cloud VM would expose, so the outputs below have
# the same names and shapes as the cloud root (terraform/outputs.tf) and the rest of the pipeline
# (inventory, Ansible, ops core) cannot tell the targets apart except by `target`.
locals {
  clouds = ["aws", "gcp", "azure"]
}

resource "terraform_data" "node" {
  for_each = toset(local.clouds)

  input = {
    cloud           = each.key
    public_ip       = var.host_addresses[each.key]
    private_ip      = var.host_addresses[each.key]
    instance_type   = "local-process"
    spot            = false
    gpu             = false
    region          = "loopback"
    deployment_name = var.deployment_name
  }
}

locals {
  nodes_raw = { for cloud in local.clouds : cloud => terraform_data.node[cloud].output }
}
