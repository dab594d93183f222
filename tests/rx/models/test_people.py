"""Clinics, patients and prescribers (rx/models/people.py): the date-of-birth rule and ages."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from core.shipping import pharmacy_today
from rx.models import Patient, date_of_birth_is_possible


def test_a_date_of_birth_can_be_today_or_earlier_but_not_later():
    today = pharmacy_today()
    assert date_of_birth_is_possible(today)
    assert date_of_birth_is_possible(date(1900, 1, 1))
    assert not date_of_birth_is_possible(today + timedelta(days=1))


@pytest.mark.django_db
def test_patient_clean_names_date_of_birth_for_a_day_in_the_future(cast):
    patient = Patient(
        account=cast.shopper_a,
        first_name="Ada",
        last_name="Lovelace",
        date_of_birth=pharmacy_today() + timedelta(days=1),
    )
    with pytest.raises(ValidationError) as exc:
        patient.full_clean()
    assert exc.value.message_dict == {"date_of_birth": ["A date of birth cannot be in the future."]}
    patient.date_of_birth = pharmacy_today()
    patient.full_clean()


def test_age_counts_whole_years_and_turns_on_the_birthday():
    patient = Patient(date_of_birth=date(2000, 2, 29))
    assert patient.age_on(date(2001, 2, 28)) == 0
    assert patient.age_on(date(2001, 3, 1)) == 1
    assert patient.age_on(date(2024, 2, 29)) == 24


def test_a_date_of_birth_is_judged_on_the_pharmacys_day(settings):
    # 02:00 UTC on 2 December 2026 is 21:00 on 1 December in New York: 2 December is tomorrow.
    settings.PHARMACY_TIME_ZONE = "America/New_York"
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 2, 2, 0, tzinfo=UTC)):
        assert date_of_birth_is_possible(date(2026, 12, 1))
        assert not date_of_birth_is_possible(date(2026, 12, 2))
