"""Which cloud a Terraform address or an Ansible host name concerns (so every line lands in its panel)."""

from __future__ import annotations

import re

from .events import HOSTS, Host

# provider prefixes and module/resource names that identify a cloud
_TOKENS: dict[str, Host] = {
    "aws": "aws",
    "gcp": "gcp",
    "google": "gcp",
    "azure": "azure",
    "azurerm": "azure",
}
_TOKEN_RE = re.compile(r"(?<![a-z])(aws|gcp|google|azurerm|azure)(?![a-z])")


def host_of(text: str | None) -> Host | None:
    """The first cloud named in ``text`` (``module.gcp_node.google_compute_instance.this`` -> gcp)."""
    if not text:
        return None
    if text in HOSTS:
        return text  # type: ignore[return-value]
    m = _TOKEN_RE.search(text.lower().replace(".", " ").replace("_", " "))
    return _TOKENS[m.group(1)] if m else None
