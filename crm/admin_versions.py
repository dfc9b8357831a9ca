"""Admin change forms that never save over newer data (crm/versions.py holds the rule).

The page carries a signed snapshot of the record as it was opened (`_opened`); a save whose
record has changed since is refused with the fields that changed, and the form is shown again
with the saved values in those fields, so nothing typed elsewhere is lost and nothing newer is wiped.
"""

from typing import Any

from django import forms

from .versions import StaleEdit, check_snapshot, snapshot

OPENED_FIELD = "_opened"

_AdminHooks: Any = object


def _model_fields(form_class, model) -> list[str]:
    concrete = {f.name for f in model._meta.concrete_fields}
    return [name for name in form_class.base_fields if name in concrete]


class VersionedAdmin(_AdminHooks):
    """Mix into a ModelAdmin whose model has `updated_at`; its change_form template renders `opened_version`."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form: Any = super().get_form(request, obj, change=change, **kwargs)  # subclassed below
        if obj is None or request.method != "POST":
            return form
        token = request.POST.get(OPENED_FIELD)

        class Guarded(form):
            def clean(self):
                cleaned = super().clean()
                saved = type(self.instance).objects.get(pk=self.instance.pk)
                try:
                    check_snapshot(saved, token)
                except StaleEdit as exc:
                    self.show_saved_values(saved, exc.changed)
                    raise forms.ValidationError(str(exc)) from None
                return cleaned

            def show_saved_values(self: Any, saved, names: list[str]) -> None:
                # Shown again, the form holds the newer saved value where it changed, so saving it
                # once more keeps that value unless the user types over it on purpose.
                data = self.data.copy()
                for name in names:
                    if name in self.fields:
                        value = self.fields[name].prepare_value(saved._meta.get_field(name).value_from_object(saved))
                        data[self.add_prefix(name)] = "" if value is None else str(value)
                self.data = data

        Guarded.__name__ = form.__name__
        return Guarded

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            # The record as it is now: a page shown again after a refused save starts from here.
            context["opened_version"] = snapshot(obj, _model_fields(context["adminform"].form.__class__, type(obj)))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
