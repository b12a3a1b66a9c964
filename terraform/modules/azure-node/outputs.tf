output "public_ip" {
  description = "Static Standard public IPv4 address of the node; known before the VM exists."
  value       = azurerm_public_ip.this.ip_address
}

output "private_ip" {
  description = "Private IPv4 address of the VM's NIC."
  value       = azurerm_network_interface.this.private_ip_address
}

output "instance_id" {
  description = "Azure resource id of the VM."
  value       = azurerm_linux_virtual_machine.this.id
}

output "instance_type" {
  description = "VM size that was launched (CPU or GPU variant)."
  value       = local.vm_size
}

output "spot" {
  description = "Whether the VM runs as Azure Spot."
  value       = var.use_spot
}

output "gpu" {
  description = "Whether the VM has an NVIDIA GPU."
  value       = var.enable_gpu
}

output "region" {
  description = "Azure region (location) of the node."
  value       = azurerm_resource_group.this.location
}

output "resource_group_name" {
  description = "Resource group that holds every resource of the node (deleting it removes them all)."
  value       = azurerm_resource_group.this.name
}
