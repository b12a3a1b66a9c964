# The names below are a contract shared with terraform/local (notes/CONTRACTS.md): the inventory script
# and the console read them from either root.

output "aws_ip" {
  description = "Public IPv4 address of the AWS node (Elastic IP)."
  value       = module.aws.public_ip
}

output "gcp_ip" {
  description = "Public IPv4 address of the GCP node (static external address)."
  value       = module.gcp.public_ip
}

output "azure_ip" {
  description = "Public IPv4 address of the Azure node (static Standard public IP)."
  value       = module.azure.public_ip
}

output "target" {
  description = "Which root produced these outputs: always \"cloud\" here (\"local\" in terraform/local)."
  value       = "cloud"
}

output "deployment_name" {
  description = "Name of this deployment (tags, secrets directory)."
  value       = var.deployment_name
}

output "ssh_user" {
  description = "User Ansible logs in as on every VM."
  value       = var.ssh_user
}

output "ssh_private_key_path" {
  description = "SSH private key Ansible logs in with (the inventory sets ansible_ssh_private_key_file)."
  value       = pathexpand(var.ssh_key_path)
}

output "nodes" {
  description = "Per-cloud facts for the inventory and the console: cloud, public_ip, private_ip, instance_type, spot, gpu, region."
  value = {
    for cloud, node in { aws = module.aws, gcp = module.gcp, azure = module.azure } : cloud => {
      cloud                  = cloud
      public_ip              = node.public_ip
      private_ip             = node.private_ip
      instance_type          = node.instance_type
      spot                   = node.spot
      gpu                    = node.gpu
      region                 = node.region
    }
  }
}
