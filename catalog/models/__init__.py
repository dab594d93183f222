"""catalog models, one module per concern: drugs (and their clinical data, monographs), products
(SKUs and price tiers), stock (lots, reservations, allocations), reviews."""

from .drugs import *  # noqa: F401,F403
from .products import *  # noqa: F401,F403
from .reviews import *  # noqa: F401,F403
from .stock import *  # noqa: F401,F403
