from opskit.codecache import load

load(__file__)  # the compiled dataclass methods the build wrote (opskit/codecache.py)
