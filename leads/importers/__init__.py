"""CSV import of leads (manage.py import_leads, the admin's import pages): see engine.py for the run."""

from .engine import DEFAULT_BATCH_SIZE, ImportFileError, ImportOptions, import_leads, inspect_file

__all__ = ["DEFAULT_BATCH_SIZE", "ImportFileError", "ImportOptions", "import_leads", "inspect_file"]
