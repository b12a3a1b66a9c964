variable "deployment_name" {
  description = "Name of this deployment; prefixes every resource name and is set as the `deployment` tag."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.deployment_name))
    error_message = "deployment_name must be 3-24 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags merged into every resource's tags (the module always adds `deployment`)."
  type        = map(string)
  default     = {}
}

variable "location" {
  description = "Azure region of the resource group and every resource in it."
  type        = string
  default     = "eastus"
}

variable "vnet_cidr" {
  description = "Address space of the virtual network."
  type        = string
  default     = "10.30.0.0/16"

  validation {
    condition     = can(cidrhost(var.vnet_cidr, 0))
    error_message = "vnet_cidr must be a valid IPv4 CIDR block."
  }
}

variable "subnet_cidr" {
  description = "CIDR block of the node's subnet (inside vnet_cidr)."
  type        = string
  default     = "10.30.1.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be a valid IPv4 CIDR block."
  }
}

variable "enable_gpu" {
  description = "Use gpu_vm_size (one NVIDIA T4) instead of vm_size."
  type        = bool
  default     = false
}

variable "use_spot" {
  description = "Run the VM as Azure Spot (evicted and deleted when capacity is reclaimed; pays at most on-demand)."
  type        = bool
  default     = true
}

variable "vm_size" {
  description = "VM size when enable_gpu is false (B-series cannot run as spot)."
  type        = string
  default     = "Standard_D2s_v5"
}

variable "gpu_vm_size" {
  description = "VM size when enable_gpu is true."
  type        = string
  default     = "Standard_NC4as_T4_v3"
}

variable "os_disk_size_gb" {
  description = "Size of the managed OS disk in GB."
  type        = number
  default     = 64

  validation {
    condition     = var.os_disk_size_gb >= 30 && var.os_disk_size_gb <= 1024
    error_message = "os_disk_size_gb must be between 30 and 1024."
  }
}

variable "encryption_at_host" {
  description = "Encrypt temp disk and caches on the host as well (needs the EncryptionAtHost feature registered on the subscription)."
  type        = bool
  default     = true
}

variable "ssh_user" {
  description = "Admin user of the VM."
  type        = string
  default     = "ubuntu"
}

variable "ssh_public_key" {
  description = "OpenSSH public key (ssh-ed25519 or ssh-rsa >= 2048 bits) installed for ssh_user (password login is disabled)."
  type        = string

  validation {
    condition     = can(regex("^ssh-(ed25519|rsa) ", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH ssh-ed25519 or ssh-rsa public key: Azure accepts only ssh-rsa (2048 bits or more) and ssh-ed25519 keys (no ECDSA)."
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
