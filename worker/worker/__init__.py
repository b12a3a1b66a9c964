"""mcloud worker: leases tasks from the control plane, runs them (PyTorch matmul, noop, sleep), reports back.

Nothing lives here on purpose: run from the repository root, ``worker`` can resolve as the namespace of
the ``worker/`` folder (the editable install maps the subpackages), so this file is not always executed.
"""
