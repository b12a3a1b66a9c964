# One mcloud node on GCP: VPC network, subnetwork, firewall rules, static external address and one VM.
# The address depends on nothing else here, so the root feeds it to the other clouds' firewalls first.
# GCP routes to the internet through the network's default route (its built-in gateway).

locals {
  name         = "${var.deployment_name}-gcp"
  labels       = merge(var.labels, { deployment = var.deployment_name, cloud = "gcp", managed-by = "terraform" })
  machine_type = var.enable_gpu ? var.gpu_machine_type : var.machine_type
  target_tag   = "${local.name}-node"
}

# --- address stage -------------------------------------------------------------------------------------

resource "google_compute_address" "this" {
  name         = "${local.name}-ip"
  project      = var.project_id
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"
  labels       = local.labels
}

# --- network -----------------------------------------------------------------------------------------

resource "google_compute_network" "this" {
  name                    = "${local.name}-vpc"
  project                 = var.project_id
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "this" {
  name                     = "${local.name}-subnet"
  project                  = var.project_id
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# --- firewall ------------------------------------------------------------------------------------------

resource "google_compute_firewall" "peers" {
  name          = "${local.name}-peers"
  project       = var.project_id
  network       = google_compute_network.this.id
  description   = "mcloud peers: Raft, gRPC, health/metrics, MinIO"
  direction     = "INGRESS"
  source_ranges = var.peer_cidrs
  target_tags   = [local.target_tag]

  allow {
    protocol = "tcp"
    ports    = ["7000", "50051", "8080-8085", "9000"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "admin" {
  name          = "${local.name}-admin"
  project       = var.project_id
  network       = google_compute_network.this.id
  description   = "mcloud operator: SSH and health/metrics from admin_cidr"
  direction     = "INGRESS"
  source_ranges = [var.admin_cidr]
  target_tags   = [local.target_tag]

  allow {
    protocol = "tcp"
    ports    = ["22", "8080-8085"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# --- instance ------------------------------------------------------------------------------------------

resource "google_compute_instance" "this" {
  #checkov:skip=CKV_GCP_40:the node needs a public IP; the design connects three clouds over public addresses admitted per /32
  #checkov:skip=CKV_GCP_38:the boot disk is encrypted at rest by Google-managed keys; CSEK/CMEK needs a KMS key ring, which GCP never deletes, so a teardown would leak one per deployment
  name                      = "${local.name}-node"
  project                   = var.project_id
  zone                      = var.zone
  machine_type              = local.machine_type
  tags                      = [local.target_tag]
  labels                    = local.labels
  allow_stopping_for_update = true

  boot_disk {
    auto_delete = true
    initialize_params {
      image  = var.image
      size   = var.boot_disk_size_gb
      type   = "pd-balanced"
      labels = local.labels
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.this.id
    access_config {
      nat_ip       = google_compute_address.this.address
      network_tier = "PREMIUM"
    }
  }

  dynamic "guest_accelerator" {
    for_each = var.enable_gpu ? [1] : []
    content {
      type  = var.gpu_accelerator_type
      count = 1
    }
  }

  scheduling {
    provisioning_model          = var.use_spot ? "SPOT" : "STANDARD"
    preemptible                 = var.use_spot
    automatic_restart           = var.use_spot ? false : true
    on_host_maintenance         = var.use_spot || var.enable_gpu ? "TERMINATE" : "MIGRATE"
    instance_termination_action = var.use_spot ? "DELETE" : null
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  metadata = {
    block-project-ssh-keys = "true"
    ssh-keys               = "${var.ssh_user}:${trimspace(var.ssh_public_key)}"
    serial-port-enable     = "false"
  }

  lifecycle {
    # A VM can only use a static external address from its own region (google_compute_address is regional).
    precondition {
      condition     = startswith(var.zone, "${var.region}-")
      error_message = "zone (gcp_zone) must lie in region (gcp_region), e.g. us-central1-a in us-central1: the static address is regional."
    }
  }
}
