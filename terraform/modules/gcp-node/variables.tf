variable "deployment_name" {
  description = "Name of this deployment; prefixes every resource name and is set as the `deployment` label."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.deployment_name))
    error_message = "deployment_name must be 3-24 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Extra labels merged into every labelled resource (the module always adds `deployment`)."
  type        = map(string)
  default     = {}
}

variable "project_id" {
  description = "GCP project id that holds the node."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  description = "GCP region of the subnet and the static address."
  type        = string
  default     = "us-central1"
}

variable "zone" {
  description = "GCP zone of the instance (must offer nvidia-tesla-t4 when enable_gpu is true)."
  type        = string
  default     = "us-central1-a"
}

variable "subnet_cidr" {
  description = "CIDR block of the node's subnetwork."
  type        = string
  default     = "10.20.1.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be a valid IPv4 CIDR block."
  }
}

variable "enable_gpu" {
  description = "Use gpu_machine_type with one gpu_accelerator_type attached instead of machine_type."
  type        = bool
  default     = false
}

variable "use_spot" {
  description = "Provision the VM as SPOT (no automatic restart, terminated on host maintenance)."
  type        = bool
  default     = true
}

variable "machine_type" {
  description = "Machine type when enable_gpu is false."
  type        = string
  default     = "e2-standard-2"
}

variable "gpu_machine_type" {
  description = "Machine type when enable_gpu is true (N1: the family that takes a T4)."
  type        = string
  default     = "n1-standard-4"
}

variable "gpu_accelerator_type" {
  description = "Accelerator attached when enable_gpu is true."
  type        = string
  default     = "nvidia-tesla-t4"
}

variable "boot_disk_size_gb" {
  description = "Size of the boot disk in GB."
  type        = number
  default     = 40

  validation {
    condition     = var.boot_disk_size_gb >= 20 && var.boot_disk_size_gb <= 500
    error_message = "boot_disk_size_gb must be between 20 and 500."
  }
}

variable "image" {
  description = "Boot image (family or self link)."
  type        = string
  default     = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
}

variable "ssh_user" {
  description = "User created from the ssh-keys metadata."
  type        = string
  default     = "ubuntu"
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for ssh_user."
  type        = string

  validation {
    condition     = can(regex("^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) ", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH public key (ssh-ed25519, ssh-rsa or ecdsa-sha2-*)."
  }
}

variable "admin_cidr" {
  description = "CIDR allowed to reach SSH (22) and the health ports (8080-8085)."
  type        = string

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0)) && var.admin_cidr != "0.0.0.0/0"
    error_message = "admin_cidr must be a valid IPv4 CIDR and must not be 0.0.0.0/0."
  }
}

variable "peer_cidrs" {
  description = "The other two nodes' public addresses as /32 CIDRs; the only sources admitted on 7000, 50051, 8080-8085 and 9000."
  type        = list(string)

  validation {
    condition     = length(var.peer_cidrs) == 2 && alltrue([for c in var.peer_cidrs : can(regex("/32$", c))])
    error_message = "peer_cidrs must list exactly two /32 CIDRs."
  }
}
