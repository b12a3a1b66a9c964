# One terraform_data resource per "VM". It stores what a cloud VM would expose, so the outputs below have
# the same names and shapes as the cloud root (terraform/outputs.tf) and the rest of the pipeline
# (inventory, Ansible, ops core) cannot tell the targets apart except by `target`.
locals {
  clouds = ["aws", "gcp", "azure"]
}

resource "terraform_data" "aws_node" {
  input = {
    cloud           = "aws"
    public_ip       = var.host_addresses["aws"]
    private_ip      = var.host_addresses["aws"]
    instance_type   = "local-process"
    spot            = false
    gpu             = false
    region          = "loopback"
    deployment_name = var.deployment_name
  }
}

resource "terraform_data" "gcp_node" {
  input = {
    cloud           = "gcp"
    public_ip       = var.host_addresses["gcp"]
    private_ip      = var.host_addresses["gcp"]
    instance_type   = "local-process"
    spot            = false
    gpu             = false
    region          = "loopback"
    deployment_name = var.deployment_name
  }
}

resource "terraform_data" "azure_node" {
  input = {
    cloud           = "azure"
    public_ip       = var.host_addresses["azure"]
    private_ip      = var.host_addresses["azure"]
    instance_type   = "local-process"
    spot            = false
    gpu             = false
    region          = "loopback"
    deployment_name = var.deployment_name
  }
}

locals {
  nodes_raw = {
    aws   = terraform_data.aws_node.output
    gcp   = terraform_data.gcp_node.output
    azure = terraform_data.azure_node.output
  }
}
