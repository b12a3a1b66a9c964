"""mcloud's operations console: ``mcloud_tui.ops`` (UI-free orchestration core) + the Textual app."""

__all__ = ["__version__"]
__version__ = "0.1.0"
