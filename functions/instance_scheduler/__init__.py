"""Instance scheduler: start/stop EC2, Auto Scaling groups and RDS/Aurora on tag schedules."""

from opskit.codecache import load

load(__file__)  # the compiled dataclass methods the build wrote (opskit/codecache.py)
