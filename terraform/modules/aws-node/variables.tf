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

variable "vpc_cidr" {
  description = "CIDR block of the VPC created for the node."
  type        = string
  default     = "10.10.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "subnet_cidr" {
  description = "CIDR block of the public subnet that holds the node (must lie inside vpc_cidr)."
  type        = string
  default     = "10.10.1.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be a valid IPv4 CIDR block."
  }
}

variable "availability_zone" {
  description = "Availability zone of the subnet and instance; null lets AWS choose one."
  type        = string
  default     = null
}

variable "enable_gpu" {
  description = "Use the GPU instance type (gpu_instance_type, NVIDIA T4) instead of instance_type."
  type        = bool
  default     = false
}

variable "use_spot" {
  description = "Run the instance on the spot market (one-time request, terminated on interruption)."
  type        = bool
  default     = true
}

variable "instance_type" {
  description = "Instance type when enable_gpu is false."
  type        = string
  default     = "t3.large"
}

variable "gpu_instance_type" {
  description = "Instance type when enable_gpu is true (one NVIDIA T4)."
  type        = string
  default     = "g4dn.xlarge"
}

variable "root_volume_size_gb" {
  description = "Size of the encrypted gp3 root volume in GiB (the GPU image with CUDA torch needs ~30)."
  type        = number
  default     = 40

  validation {
    condition     = var.root_volume_size_gb >= 20 && var.root_volume_size_gb <= 500
    error_message = "root_volume_size_gb must be between 20 and 500."
  }
}

variable "ami_id" {
  description = "AMI to boot; null selects the newest Canonical Ubuntu 24.04 LTS amd64 image."
  type        = string
  default     = null
}

variable "ssh_user" {
  description = "Login user of the image (Ubuntu images: ubuntu); informational, output for Ansible."
  type        = string
  default     = "ubuntu"
}

variable "ssh_public_key" {
  description = "OpenSSH public key (ssh-ed25519 or ssh-rsa) imported as the instance's EC2 key pair."
  type        = string

  validation {
    condition     = can(regex("^ssh-(ed25519|rsa) ", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH ssh-ed25519 or ssh-rsa public key: EC2 key pairs (ImportKeyPair) accept only RSA and ED25519 keys (no ECDSA)."
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
