"""opskit: the shared layer of the catalog (config, AWS access, actions, reports, observability)."""

__version__ = "0.1.0"
