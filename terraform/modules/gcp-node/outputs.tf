output "public_ip" {
  description = "Static external IPv4 address of the node; known before the VM exists."
  value       = google_compute_address.this.address
}

output "private_ip" {
  description = "Internal IPv4 address of the VM inside its subnetwork."
  value       = google_compute_instance.this.network_interface[0].network_ip
}

output "instance_id" {
  description = "Compute Engine instance id."
  value       = google_compute_instance.this.instance_id
}

output "instance_type" {
  description = "Machine type that was launched (the T4 rides on it when gpu is true; see accelerator)."
  value       = local.machine_type
}

output "accelerator" {
  description = "Accelerator attached to the VM, or null without GPU."
  value       = var.enable_gpu ? var.gpu_accelerator_type : null
}

output "spot" {
  description = "Whether the VM is provisioned as SPOT."
  value       = var.use_spot
}

output "gpu" {
  description = "Whether the VM has an NVIDIA GPU attached."
  value       = var.enable_gpu
}

output "region" {
  description = "GCP region of the node."
  value       = var.region
}
