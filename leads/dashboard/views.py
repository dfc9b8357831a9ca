"""The sales dashboard page in the admin (/admin/dashboard/): a period form, the numbers and their charts.

Server-rendered; the charts read their data from a json_script block, so there is no JSON endpoint.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from leads.dashboard.figures import Dashboard, Period, build_dashboard, last_days

PRESETS = {"7": 7, "30": 30, "90": 90}
DEFAULT_PRESET = "30"
CUSTOM = "custom"
DATE_HELP = "Enter a date as YYYY-MM-DD, e.g. 2026-03-31."
# A year at most: the stored figures make any period cheap, but the page's words ("last year") stop there.
MAX_DAYS = 366


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label="Period",
        required=False,
        choices=[("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"), (CUSTOM, "Custom dates")],
        error_messages={"invalid_choice": "Pick last 7, 30 or 90 days, or custom dates."},
    )
    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE_HELP},
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": DATE_HELP},
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        super().clean()
        data = self.cleaned_data
        preset = data.get("period") or ""
        start, end = data.get("start"), data.get("end")
        if preset in PRESETS:
            data["range"] = last_days(days=PRESETS[preset], today=self.today)
            return data
        if self.errors:  # a date that did not parse already says so
            return data
        if not start and not end and preset != CUSTOM:
            data["range"] = last_days(days=PRESETS[DEFAULT_PRESET], today=self.today)
            return data
        if not start or not end:
            raise forms.ValidationError("Give both a from and a to date for a custom period.")
        if start > end:
            raise forms.ValidationError(
                f"The period starts ({start:%Y-%m-%d}) after it ends ({end:%Y-%m-%d}); swap the dates."
            )
        if end > self.today:
            raise forms.ValidationError(
                f"The dashboard reports what has happened: pick a to date of today ({self.today:%Y-%m-%d}) or earlier."
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                f"A custom period covers at most {MAX_DAYS} days; this one has {(end - start).days + 1}. "
                "Pick a shorter one."
            )
        data["period"] = CUSTOM
        data["range"] = Period(first_day=start, last_day=end)
        return data


def dashboard(request):
    if not request.user.has_perm("leads.view_lead"):
        raise PermissionDenied
    now = timezone.now()
    today = timezone.localdate(now)
    form = PeriodForm(request.GET or {"period": DEFAULT_PRESET}, today=today)
    context = {**admin.site.each_context(request), "title": "Sales dashboard", "form": form}
    if request.user.tenant_id is None:
        context["no_workspace"] = True
        return TemplateResponse(request, "admin/dashboard.html", context)
    if not form.is_valid():
        return TemplateResponse(request, "admin/dashboard.html", context, status=400)
    board = build_dashboard(user=request.user, period=form.cleaned_data["range"], now=now)
    context.update(board=board, chart_data=chart_data(board), median_wait=format_duration(board.first_contact.median))
    context["rep_rows"] = [
        {**row.__dict__, "median": format_duration(row.median_first_contact)} for row in board.reps
    ]
    return TemplateResponse(request, "admin/dashboard.html", context)


dashboard_view = admin.site.admin_view(dashboard)


def chart_data(board: Dashboard) -> dict:
    """What dashboard.js draws: labels and numbers only (the page's tables carry the same figures)."""
    return {
        "funnel": {
            "labels": [stage.label for stage in board.funnel.stages],
            "counts": [stage.count for stage in board.funnel.stages],
            "pct": [stage.pct_of_new for stage in board.funnel.stages],
        },
        "sources": {
            "labels": [row.label for row in board.sources],
            "leads": [row.leads for row in board.sources],
            "converted": [row.converted for row in board.sources],
            "pct": [row.conversion_pct for row in board.sources],
        },
        "bands": {
            "keys": [band.key for band in board.bands],
            "labels": [band.label for band in board.bands],
            "counts": [band.count for band in board.bands],
        },
    }


def format_duration(value: dt.timedelta | None) -> str:
    """A wait as people say it: "under a minute", "42 min", "3 h 5 min", "2 d 4 h"."""
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
