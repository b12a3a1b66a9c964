output "public_ip" {
  description = "Static public IPv4 address (Elastic IP) of the node; known before the instance exists."
  value       = aws_eip.this.public_ip
}

output "private_ip" {
  description = "Private IPv4 address of the instance inside its VPC."
  value       = aws_instance.this.private_ip
}

output "instance_id" {
  description = "EC2 instance id."
  value       = aws_instance.this.id
}

output "instance_type" {
  description = "Instance type that was launched (CPU or GPU variant)."
  value       = local.instance_type
}

output "spot" {
  description = "Whether the instance runs on the spot market."
  value       = var.use_spot
}

output "gpu" {
  description = "Whether the instance has an NVIDIA GPU."
  value       = var.enable_gpu
}

output "region" {
  description = "AWS region of the node."
  value       = data.aws_region.current.name
}

output "security_group_id" {
  description = "Id of the node's security group."
  value       = aws_security_group.node.id
}
