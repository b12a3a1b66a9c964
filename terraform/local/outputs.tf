# Same output names as the cloud root (notes/CONTRACTS.md): the inventory generator reads either.
output "aws_ip" {
  description = "Address of the AWS host."
  value       = local.nodes_raw["aws"].public_ip
}

output "gcp_ip" {
  description = "Address of the GCP host."
  value       = local.nodes_raw["gcp"].public_ip
}

output "azure_ip" {
  description = "Address of the Azure host."
  value       = local.nodes_raw["azure"].public_ip
}

output "target" {
  description = "Which root produced this state: local or cloud."
  value       = "local"
}

output "deployment_name" {
  description = "Name of this deployment."
  value       = var.deployment_name
}

output "ssh_user" {
  description = "SSH user for Ansible (none: the local target uses ansible_connection=local)."
  value       = ""
}

output "nodes" {
  description = "Per-cloud node facts: cloud, public_ip, private_ip, instance_type, spot, gpu, region."
  value = {
    for cloud in local.clouds : cloud => {
      cloud         = local.nodes_raw[cloud].cloud
      public_ip     = local.nodes_raw[cloud].public_ip
      private_ip    = local.nodes_raw[cloud].private_ip
      instance_type = local.nodes_raw[cloud].instance_type
      spot          = local.nodes_raw[cloud].spot
      gpu           = local.nodes_raw[cloud].gpu
      region        = local.nodes_raw[cloud].region
    }
  }
}
