"""rx models, one module per concern: people (clinics, patients, prescribers), prescriptions
(and their events), verification (findings, decisions, responses), dispenses, audit."""

from .audit import *  # noqa: F401,F403
from .dispenses import *  # noqa: F401,F403
from .people import *  # noqa: F401,F403
from .prescriptions import *  # noqa: F401,F403
from .verification import *  # noqa: F401,F403
