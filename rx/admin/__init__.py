"""The rx back office, one module per concern: people (clinics, patients, prescribers),
prescriptions (history and transcription), review (the verification queue and review page),
records (decisions, dispenses, the audit log); mixins holds what they share."""

from . import people, prescriptions, records, review  # noqa: F401
