"""Data-subject requests (export, erasure), consent, and retention: docs/privacy.md."""
