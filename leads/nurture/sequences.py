"""Writing a sequence and its steps (the API's door; the admin's inline forms check steps through the model)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.access import AccessDenied
from crm.models import Tenant, User
from leads.models import Sequence, SequenceStep
from leads.nurture_models import StepKind, check_step_settings

MANAGERS_ONLY = "Only managers build nurture sequences."


def _check_steps(steps: list[dict]) -> list[dict]:
    errors: dict[str, list[str]] = {}
    for index, step in enumerate(steps):
        try:
            if step.get("kind") not in StepKind.values:
                raise ValidationError({"kind": [f"One of: {', '.join(StepKind.values)}."]})
            check_step_settings(step["kind"], step.get("settings", {}))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"steps[{index}].{field}"] = messages
    if errors:
        raise ValidationError(errors)
    return steps


def sequence_save(*, tenant: Tenant, actor: User | None, fields: dict, steps: list[dict] | None,
                  sequence: Sequence | None = None) -> Sequence:
    """Create or change a sequence; `steps` (kind, settings; in order), when given, replace its steps.

    Enrolled leads keep their place: a lead whose next position is past the new last step completes
    at its next due time. Raises ValidationError naming the field (`name`, `steps[i].settings`).
    """
    if actor is not None and not actor.is_manager:
        raise AccessDenied(MANAGERS_ONLY)
    if steps is not None:
        _check_steps(steps)
    with transaction.atomic():
        sequence = sequence or Sequence(tenant=tenant)
        for name, value in fields.items():
            setattr(sequence, name, value)
        try:
            with transaction.atomic():
                sequence.save()
        except IntegrityError as exc:
            raise ValidationError({"name": ["A sequence with this name already exists."]}) from exc
        if steps is not None:
            sequence.steps.all().delete()
            SequenceStep.objects.bulk_create(
                SequenceStep(sequence=sequence, position=i + 1, kind=s["kind"], settings=s.get("settings", {}))
                for i, s in enumerate(steps)
            )
    return sequence
