# One mcloud node on Azure: resource group, VNet, subnet, NSG, static Standard public IP, NIC and one VM.
# The public IP depends only on the resource group, so the root feeds it to the other clouds' firewalls
# before the VM exists. Azure routes to the internet through the VNet's system routes (its gateway).

locals {
  name    = "${var.deployment_name}-azure"
  tags    = merge(var.tags, { deployment = var.deployment_name, cloud = "azure", managed-by = "terraform" })
  vm_size = var.enable_gpu ? var.gpu_vm_size : var.vm_size
}

resource "azurerm_resource_group" "this" {
  name     = "${local.name}-rg"
  location = var.location
  tags     = local.tags
}

# --- address stage -------------------------------------------------------------------------------------

resource "azurerm_public_ip" "this" {
  name                = "${local.name}-ip"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = local.tags
}

# --- network -----------------------------------------------------------------------------------------

resource "azurerm_virtual_network" "this" {
  name                = "${local.name}-vnet"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  address_space       = [var.vnet_cidr]
  tags                = local.tags
}

resource "azurerm_subnet" "this" {
  name                 = "${local.name}-subnet"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [var.subnet_cidr]
}

# --- firewall ------------------------------------------------------------------------------------------

resource "azurerm_network_security_group" "this" {
  name                = "${local.name}-nsg"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  tags                = local.tags

  security_rule {
    name                       = "peers"
    description                = "mcloud peers: Raft, gRPC, health/metrics, MinIO"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    source_address_prefixes    = var.peer_cidrs
    destination_port_ranges    = ["7000", "50051", "8080-8085", "9000"]
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "admin"
    description                = "mcloud operator: SSH and health/metrics from admin_cidr"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    source_address_prefix      = var.admin_cidr
    destination_port_ranges    = ["22", "8080-8085"]
    destination_address_prefix = "*"
  }
}

resource "azurerm_subnet_network_security_group_association" "this" {
  subnet_id                 = azurerm_subnet.this.id
  network_security_group_id = azurerm_network_security_group.this.id
}

resource "azurerm_network_interface" "this" {
  #checkov:skip=CKV_AZURE_119:the node needs a public IP; the design connects three clouds over public addresses admitted per /32
  name                = "${local.name}-nic"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  tags                = local.tags

  ip_configuration {
    name                          = "primary"
    subnet_id                     = azurerm_subnet.this.id
    private_ip_address_allocation = "Dynamic"
    public_ip_address_id          = azurerm_public_ip.this.id
  }
}

resource "azurerm_network_interface_security_group_association" "this" {
  network_interface_id      = azurerm_network_interface.this.id
  network_security_group_id = azurerm_network_security_group.this.id
}

# --- instance ------------------------------------------------------------------------------------------

resource "azurerm_linux_virtual_machine" "this" {
  name                            = "${local.name}-node"
  resource_group_name             = azurerm_resource_group.this.name
  location                        = azurerm_resource_group.this.location
  size                            = local.vm_size
  admin_username                  = var.ssh_user
  disable_password_authentication = true
  network_interface_ids           = [azurerm_network_interface.this.id]
  encryption_at_host_enabled      = var.encryption_at_host
  allow_extension_operations      = false
  provision_vm_agent              = true
  tags                            = local.tags

  # Trusted Launch (the Azure counterpart of GCP's Shielded VM): the `server` SKU below is a Gen2 image and
  # both default sizes (Dsv5, NCasT4_v3) support it; the GPU role installs Canonical's signed NVIDIA modules.
  secure_boot_enabled = true
  vtpm_enabled        = true

  priority        = var.use_spot ? "Spot" : "Regular"
  eviction_policy = var.use_spot ? "Delete" : null
  max_bid_price   = var.use_spot ? -1 : null # -1: pay up to the on-demand price, never evicted for price

  admin_ssh_key {
    username   = var.ssh_user
    public_key = var.ssh_public_key
  }

  os_disk {
    name                 = "${local.name}-osdisk"
    caching              = "ReadWrite"
    storage_account_type = "Premium_LRS"
    disk_size_gb         = var.os_disk_size_gb
  }

  source_image_reference {
    publisher = "Canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "latest"
  }

  depends_on = [azurerm_network_interface_security_group_association.this]
}
