"""Admin for patients, prescribers, prescriptions and the verification queue."""
