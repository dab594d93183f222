"""Admin for pumps, programs, refills and appointments."""
