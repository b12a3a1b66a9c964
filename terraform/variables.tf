# --- deployment ----------------------------------------------------------------------------------------

variable "deployment_name" {
  description = "Name of this deployment: prefixes every resource, tags/labels them (`deployment`), names the secrets directory."
  type        = string
  default     = "mcloud"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.deployment_name))
    error_message = "deployment_name must be 3-24 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "enable_gpu" {
  description = "Launch the GPU variant on every cloud (one NVIDIA T4: g4dn.xlarge / n1-standard-4 + nvidia-tesla-t4 / Standard_NC4as_T4_v3)."
  type        = bool
  default     = false
}

variable "use_spot" {
  description = "Run every VM as spot / SPOT / Azure Spot (cheaper, may be reclaimed). Set false for on-demand."
  type        = bool
  default     = true
}

variable "admin_cidr" {
  description = "The operator's address range, admitted on SSH (22) and the health ports (8080-8085). Use your IP as a /32; 0.0.0.0/0 is refused."
  type        = string

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0))
    error_message = "admin_cidr must be a valid IPv4 CIDR such as 203.0.113.7/32."
  }

  validation {
    condition     = var.admin_cidr != "0.0.0.0/0"
    error_message = "admin_cidr must not be 0.0.0.0/0: give your own address as a /32 (curl -s https://checkip.amazonaws.com)."
  }
}

variable "ssh_key_path" {
  description = "Path of the SSH private key Ansible logs in with; its public half must lie next to it as <path>.pub and be ssh-ed25519 or ssh-rsa (AWS and Azure refuse ECDSA keys)."
  type        = string
  default     = "~/.ssh/id_ed25519"
}

variable "ssh_user" {
  description = "Login user on every VM (the Ubuntu images' default)."
  type        = string
  default     = "ubuntu"
}

# --- AWS -----------------------------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region of the AWS node."
  type        = string
  default     = "us-east-1"
}

variable "aws_instance_type" {
  description = "AWS instance type when enable_gpu is false."
  type        = string
  default     = "t3.large"
}

variable "aws_gpu_instance_type" {
  description = "AWS instance type when enable_gpu is true."
  type        = string
  default     = "g4dn.xlarge"
}

# --- GCP -----------------------------------------------------------------------------------------------

variable "gcp_project_id" {
  description = "GCP project id that holds the GCP node (billing enabled, Compute Engine API on)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.gcp_project_id))
    error_message = "gcp_project_id must be a GCP project id (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "gcp_region" {
  description = "GCP region of the GCP node."
  type        = string
  default     = "us-central1"
}

variable "gcp_zone" {
  description = "GCP zone of the GCP node (must offer nvidia-tesla-t4 when enable_gpu is true)."
  type        = string
  default     = "us-central1-a"
}

variable "gcp_machine_type" {
  description = "GCP machine type when enable_gpu is false."
  type        = string
  default     = "e2-standard-2"
}

variable "gcp_gpu_machine_type" {
  description = "GCP machine type when enable_gpu is true (a T4 is attached to it)."
  type        = string
  default     = "n1-standard-4"
}

# --- Azure ---------------------------------------------------------------------------------------------

variable "azure_subscription_id" {
  description = "Azure subscription id (a GUID) that holds the Azure node."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.azure_subscription_id))
    error_message = "azure_subscription_id must be a subscription GUID (az account show --query id -o tsv)."
  }
}

variable "azure_location" {
  description = "Azure region of the Azure node."
  type        = string
  default     = "eastus"
}

variable "azure_vm_size" {
  description = "Azure VM size when enable_gpu is false."
  type        = string
  default     = "Standard_D2s_v5"
}

variable "azure_gpu_vm_size" {
  description = "Azure VM size when enable_gpu is true."
  type        = string
  default     = "Standard_NC4as_T4_v3"
}

variable "azure_encryption_at_host" {
  description = "Encrypt the Azure VM's temp disk and caches on the host (register Microsoft.Compute/EncryptionAtHost first, or set false)."
  type        = bool
  default     = true
}
