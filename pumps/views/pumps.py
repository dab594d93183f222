"""Clinic pages: the pump dashboard and each pump's picture (namespace ``pumps:``).

Thin: ``pumps.access`` decides who sees what (others get 404) and records what was shown, the
schedule comes from ``pumps.services.schedules``, the chart geometry from ``pumps.schedule.chart``.
"""

from datetime import date

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from core.errors import NotFound
from pumps import access
from pumps.schedule.chart import volume_chart
from pumps.selectors import pump_list
from pumps.services.pumps import clinic_date
from pumps.services.schedules import pump_schedule_compute


def _login_or_404(view):
    def wrapper(request, *args, **kwargs):
        if not access.is_authenticated(request.user):
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_login_or_404
def clinic_list(request):
    """The user's clinics; straight to the dashboard when there is only one."""
    clinics = list(access.clinics_visible_to(request.user).order_by("name"))
    if len(clinics) == 1:
        return redirect("pumps:clinic-pumps", clinic_id=clinics[0].pk)
    return render(request, "pumps/clinic_list.html", {"clinics": clinics})


def _risk_order(pump):
    """Critical first, then any warning, then the earliest ship-by date."""
    return (not pump.has_critical_warning, not pump.warnings, pump.ship_by or date.max, pump.pk)


@_login_or_404
def clinic_pumps(request, clinic_id):
    """Every active pump of the clinic's patients with its next dates and warnings, riskiest first."""
    clinic = access.clinic_for(request.user, clinic_id)
    visible = access.pumps_visible_to(request.user).filter(patient__clinic=clinic, active=True)
    pumps = sorted(pump_list(visible), key=_risk_order)
    access.record_views(request, pumps, detail=f"clinic {clinic.pk} pump dashboard")
    return render(
        request,
        "pumps/clinic_pumps.html",
        {
            "clinic": clinic,
            "pumps": pumps,
            "critical_count": sum(p.has_critical_warning for p in pumps),
            "can_manage": access.can_manage_clinic(request.user, clinic),
        },
    )


@_login_or_404
def pump_detail(request, pk):
    """One pump: status, the projected volume chart with every date marked, and its history."""
    pump = access.pump_for(request.user, pk, history=True)
    clinic = pump.patient.clinic
    now = timezone.now()
    schedule = pump_schedule_compute(pump=pump, now=now)
    chart = volume_chart(
        schedule,
        reservoir_ml=pump.reservoir_volume_ml,
        alarm_volume_ml=pump.alarm_volume_ml,
        time_zone=clinic.time_zone,
        today=clinic_date(clinic, now),
    )
    access.record_view(request, pump, detail="pump page")
    return render(
        request,
        "pumps/pump_detail.html",
        {
            "pump": pump,
            "clinic": clinic,
            "schedule": schedule,
            "chart": chart,
            "programs": list(pump.programs.all())[::-1],
            "refills": list(pump.refills.all())[:10],
            "appointments": list(pump.appointments.all())[:10],
        },
    )
