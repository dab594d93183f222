"""rx models, one module per concern: people (clinics, patients, prescribers), prescriptions
(and decisions, findings, dispenses), audit."""

from .audit import *  # noqa: F401,F403
from .people import *  # noqa: F401,F403
from .prescriptions import *  # noqa: F401,F403
