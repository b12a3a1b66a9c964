# The local target: Terraform's built-in provider only (terraform_data), so `terraform init` downloads
# nothing and works offline. The ops core passes `-backend-config=path=...` (and TF_DATA_DIR) so the state
# lives under $MCLOUD_STATE_DIR, never in the repository.
terraform {
  required_version = ">= 1.4.0"

  backend "local" {}
}
