"""mcloud control plane: a Raft-replicated job queue (PySyncObj) behind a gRPC API."""

__version__ = "0.1.0"
