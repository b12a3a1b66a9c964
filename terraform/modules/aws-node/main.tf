# One mcloud node on AWS: VPC, public subnet, internet gateway, security group, Elastic IP and one instance.
# The Elastic IP does not depend on anything else in this module, so the root can read it (output
# `public_ip`) and feed it to the other clouds' firewalls before any instance exists.

locals {
  name          = "${var.deployment_name}-aws"
  tags          = merge(var.tags, { deployment = var.deployment_name, cloud = "aws", managed-by = "terraform" })
  instance_type = var.enable_gpu ? var.gpu_instance_type : var.instance_type
  # T3 spot instances launch in unlimited-credit mode unless told otherwise; standard caps the bill.
  burstable = can(regex("^t[0-9]", local.instance_type))

  # Application ports admitted from the two peers only.
  peer_ports = [
    { from = 7000, to = 7000, what = "Raft (PySyncObj)" },
    { from = 50051, to = 50051, what = "control-plane gRPC" },
    { from = 8080, to = 8085, what = "control-plane / worker health and metrics" },
    { from = 9000, to = 9000, what = "MinIO S3 API" },
  ]
  # Operator access admitted from admin_cidr only.
  admin_ports = [
    { from = 22, to = 22, what = "SSH" },
    { from = 8080, to = 8085, what = "health and metrics" },
  ]
}

data "aws_region" "current" {}

data "aws_ami" "ubuntu" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

# --- address stage (no dependencies: the peers' firewalls need it first) -----------------------------

resource "aws_eip" "this" {
  domain = "vpc"
  tags   = merge(local.tags, { Name = "${local.name}-ip" })
}

# --- network -----------------------------------------------------------------------------------------

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = "${local.name}-vpc" })
}

# Lock the VPC's default security group down (no rules) so nothing can use it by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${local.name}-default-sg" })
}

resource "aws_subnet" "this" {
  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.subnet_cidr
  availability_zone       = var.availability_zone
  map_public_ip_on_launch = false # the node gets the Elastic IP instead
  tags                    = merge(local.tags, { Name = "${local.name}-subnet" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${local.name}-igw" })
}

resource "aws_route_table" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${local.name}-rt" })

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
}

resource "aws_route_table_association" "this" {
  subnet_id      = aws_subnet.this.id
  route_table_id = aws_route_table.this.id
}

# VPC flow logs of rejected traffic: shows who knocks on the public IP (kept 1 year, KMS-encrypted).
resource "aws_kms_key" "logs" {
  description             = "${local.name} flow-log encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  # Key policies name "*" as the resource: inside a key policy that means "this key".
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdmin"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
      },
    ]
  })
  tags = merge(local.tags, { Name = "${local.name}-logs-key" })
}

data "aws_caller_identity" "current" {}

resource "aws_cloudwatch_log_group" "flow" {
  name              = "/mcloud/${var.deployment_name}/vpc-flow"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.logs.arn
  tags              = local.tags
}

data "aws_iam_policy_document" "flow_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "flow_write" {
  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = ["${aws_cloudwatch_log_group.flow.arn}:*"]
  }
}

resource "aws_iam_role" "flow" {
  name               = "${local.name}-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "flow" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow.id
  policy = data.aws_iam_policy_document.flow_write.json
}

resource "aws_flow_log" "this" {
  vpc_id          = aws_vpc.this.id
  traffic_type    = "REJECT"
  log_destination = aws_cloudwatch_log_group.flow.arn
  iam_role_arn    = aws_iam_role.flow.arn
  tags            = merge(local.tags, { Name = "${local.name}-flow" })
}

# --- firewall ------------------------------------------------------------------------------------------

resource "aws_security_group" "node" {
  name        = "${local.name}-node"
  description = "mcloud node: peers on the pipeline ports, admin_cidr on SSH and health"
  vpc_id      = aws_vpc.this.id
  tags        = merge(local.tags, { Name = "${local.name}-node" })

  dynamic "ingress" {
    for_each = local.peer_ports
    content {
      description = "peers: ${ingress.value.what}"
      protocol    = "tcp"
      from_port   = ingress.value.from
      to_port     = ingress.value.to
      cidr_blocks = var.peer_cidrs
    }
  }

  dynamic "ingress" {
    for_each = local.admin_ports
    content {
      description = "admin: ${ingress.value.what}"
      protocol    = "tcp"
      from_port   = ingress.value.from
      to_port     = ingress.value.to
      cidr_blocks = [var.admin_cidr]
    }
  }

  dynamic "egress" {
    for_each = local.peer_ports
    content {
      description = "to peers: ${egress.value.what}"
      protocol    = "tcp"
      from_port   = egress.value.from
      to_port     = egress.value.to
      cidr_blocks = var.peer_cidrs
    }
  }

  # Package mirrors, Docker Hub, PyPI and the NVIDIA repositories (DNS and NTP use the VPC resolver,
  # which security groups do not filter).
  egress {
    description = "HTTPS to package registries"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "HTTP to the Ubuntu archive"
    protocol    = "tcp"
    from_port   = 80
    to_port     = 80
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# --- instance ------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

# The node needs no AWS API access; the empty role exists so the instance never falls back to keys.
resource "aws_iam_role" "node" {
  name               = "${local.name}-node"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
  tags               = local.tags
}

resource "aws_iam_instance_profile" "node" {
  name = "${local.name}-node"
  role = aws_iam_role.node.name
  tags = local.tags
}

resource "aws_key_pair" "this" {
  key_name   = "${local.name}-key"
  public_key = var.ssh_public_key
  tags       = local.tags
}

resource "aws_instance" "this" {
  ami                    = coalesce(var.ami_id, try(data.aws_ami.ubuntu[0].id, null))
  instance_type          = local.instance_type
  subnet_id              = aws_subnet.this.id
  vpc_security_group_ids = [aws_security_group.node.id]
  key_name               = aws_key_pair.this.key_name
  iam_instance_profile   = aws_iam_instance_profile.node.name
  ebs_optimized          = true
  monitoring             = true
  tags                   = merge(local.tags, { Name = "${local.name}-node" })
  volume_tags            = merge(local.tags, { Name = "${local.name}-root" })

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only
    http_put_response_hop_limit = 2          # containers on the bridge network are one hop further
  }

  root_block_device {
    encrypted             = true
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    delete_on_termination = true
  }

  dynamic "instance_market_options" {
    for_each = var.use_spot ? [1] : []
    content {
      market_type = "spot"
      spot_options {
        spot_instance_type             = "one-time"
        instance_interruption_behavior = "terminate"
      }
    }
  }

  dynamic "credit_specification" {
    for_each = local.burstable ? [1] : []
    content {
      cpu_credits = "standard"
    }
  }

  lifecycle {
    precondition {
      condition     = var.ami_id != null || length(data.aws_ami.ubuntu) == 1
      error_message = "No Ubuntu 24.04 AMI found in this region; set ami_id."
    }
  }
}

resource "aws_eip_association" "this" {
  allocation_id = aws_eip.this.id
  instance_id   = aws_instance.this.id
}
