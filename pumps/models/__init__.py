"""pumps models, one module per concern: pumps (implanted pumps, their programs, refills,
appointments and stored schedule) and kits (refill-kit orders, standing orders, alerts)."""

from .kits import *  # noqa: F401,F403
from .pumps import *  # noqa: F401,F403
