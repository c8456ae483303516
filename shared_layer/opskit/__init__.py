"""opskit: the shared layer of the catalog (config, AWS access, actions, reports, observability)."""

from opskit import codecache as _codecache

__version__ = "0.1.0"

# Before any dataclass of the layer or of an automation is defined (opskit/codecache.py).
_codecache.install()
_codecache.load(__file__)
