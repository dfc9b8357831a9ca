from leads.models import Sequence, SequenceStep
from leads.nurture_models import StepKind


def three_step_sequence(tenant, *, name="Cold web leads", days=2) -> Sequence:
    """Email, wait `days`, email: the issue's three-step sequence."""
    sequence = Sequence.objects.create(tenant=tenant, name=name)
    SequenceStep.objects.create(sequence=sequence, position=1, kind=StepKind.EMAIL, settings={
        "subject": "Hello {{ lead.first_name }}", "body": "Hi {{ lead.first_name }} at {{ lead.company }},\n"
        "see https://example.com/guide\n{{ owner.first_name }}, {{ workspace.name }}"})
    SequenceStep.objects.create(sequence=sequence, position=2, kind=StepKind.WAIT, settings={"days": days})
    SequenceStep.objects.create(sequence=sequence, position=3, kind=StepKind.EMAIL, settings={
        "subject": "Still interested, {{ lead.first_name }}?", "body": "A case study for {{ lead.company }}."})
    return sequence
