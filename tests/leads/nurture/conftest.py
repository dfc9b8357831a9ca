import pytest

from leads.nurture import scheduler


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """A scheduler pass whose after-commit work (sending the email) happens, as it does outside a test transaction."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return scheduler.run_due_steps(**kwargs)

    return run


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def sweep(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return scheduler.sweep_exits(**kwargs)

    return sweep
