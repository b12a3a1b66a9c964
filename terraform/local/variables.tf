variable "deployment_name" {
  description = "Name of this deployment (tags, secrets directory, per-host run directories)."
  type        = string
  default     = "mcloud-local"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.deployment_name))
    error_message = "deployment_name must be 3-40 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "host_addresses" {
  description = "Loopback addresses of the three local hosts, keyed by cloud (tests use other ones so they never collide with a developer's running local target)."
  type        = map(string)
  default = {
    aws   = "127.0.1.1"
    gcp   = "127.0.2.1"
    azure = "127.0.3.1"
  }

  validation {
    condition     = toset(keys(var.host_addresses)) == toset(["aws", "gcp", "azure"])
    error_message = "host_addresses must have exactly the keys aws, gcp and azure."
  }

  validation {
    condition     = alltrue([for ip in values(var.host_addresses) : can(regex("^127\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$", ip))])
    error_message = "host_addresses must all be IPv4 loopback addresses (127.x.y.z)."
  }

  validation {
    condition     = length(distinct(values(var.host_addresses))) == 3
    error_message = "host_addresses must be three distinct addresses."
  }
}
