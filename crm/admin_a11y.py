"""Accessible admin pieces: a tabular inline's inputs sit under a column header, not beside a <label>, so a
screen reader (and axe-core) finds no name for them; each gets its field's label as its accessible name."""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import capfirst


class LabelledTabularInline(admin.TabularInline):
    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            widget = getattr(field.widget, "widget", None) or field.widget  # inside the add/change wrapper
            widget.attrs.setdefault("aria-label", str(capfirst(field.label or db_field.verbose_name)))
        return field
