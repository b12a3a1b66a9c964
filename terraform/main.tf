# mcloud cloud root: one node on each of AWS, GCP and Azure.
#
# Static addresses come first: each module creates its public address in a stage that depends on nothing
# else in the module and exposes it as `public_ip`; the root passes every module the other two addresses
# as /32s (peer_cidrs), so each firewall admits exactly its two peers. Terraform resolves this per
# resource, so there is no cycle: address -> (other modules') firewalls -> instances.
#
# State: local by default (terraform/terraform.tfstate, git-ignored). For a team, uncomment the backend
# below (an S3 bucket you own, versioned and encrypted; `use_lockfile` gives S3-native locking, no
# DynamoDB table needed) and run `make cloud-init` again, which migrates the state:
#
# terraform {
#   backend "s3" {
#     bucket       = "my-mcloud-tfstate"          # created once by hand, versioning on
#     key          = "mcloud/terraform.tfstate"
#     region       = "us-east-1"
#     encrypt      = true
#     use_lockfile = true
#   }
# }

locals {
  common_tags = {
    deployment = var.deployment_name
    project    = "mcloud"
    managed-by = "terraform"
  }
  ssh_public_key = trimspace(file(pathexpand("${var.ssh_key_path}.pub")))
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.common_tags
  }
}

provider "google" {
  project        = var.gcp_project_id
  region         = var.gcp_region
  zone           = var.gcp_zone
  default_labels = local.common_tags
}

provider "azurerm" {
  features {}
  subscription_id = var.azure_subscription_id
}

module "aws" {
  source = "./modules/aws-node"

  deployment_name   = var.deployment_name
  tags              = local.common_tags
  enable_gpu        = var.enable_gpu
  use_spot          = var.use_spot
  instance_type     = var.aws_instance_type
  gpu_instance_type = var.aws_gpu_instance_type
  ssh_user          = var.ssh_user
  ssh_public_key    = local.ssh_public_key
  admin_cidr        = var.admin_cidr
  peer_cidrs        = ["${module.gcp.public_ip}/32", "${module.azure.public_ip}/32"]
}

module "gcp" {
  source = "./modules/gcp-node"

  deployment_name  = var.deployment_name
  labels           = local.common_tags
  project_id       = var.gcp_project_id
  region           = var.gcp_region
  zone             = var.gcp_zone
  enable_gpu       = var.enable_gpu
  use_spot         = var.use_spot
  machine_type     = var.gcp_machine_type
  gpu_machine_type = var.gcp_gpu_machine_type
  ssh_user         = var.ssh_user
  ssh_public_key   = local.ssh_public_key
  admin_cidr       = var.admin_cidr
  peer_cidrs       = ["${module.aws.public_ip}/32", "${module.azure.public_ip}/32"]
}

module "azure" {
  source = "./modules/azure-node"

  deployment_name    = var.deployment_name
  tags               = local.common_tags
  location           = var.azure_location
  enable_gpu         = var.enable_gpu
  use_spot           = var.use_spot
  vm_size            = var.azure_vm_size
  gpu_vm_size        = var.azure_gpu_vm_size
  encryption_at_host = var.azure_encryption_at_host
  ssh_user           = var.ssh_user
  ssh_public_key     = local.ssh_public_key
  admin_cidr         = var.admin_cidr
  peer_cidrs         = ["${module.aws.public_ip}/32", "${module.gcp.public_ip}/32"]
}
