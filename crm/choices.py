from django.db import models


class Role(models.TextChoices):
    REP = "rep", "Sales rep"
    MANAGER = "manager", "Sales manager"
    ADMIN = "admin", "Tenant admin"


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    CONTACTED = "contacted", "Contacted"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    TASK = "task", "Task"
    FORM_SUBMITTED = "form_submitted", "Form submitted"
    EMAIL_OPENED = "email_opened", "Email opened"
    EMAIL_CLICKED = "email_clicked", "Email clicked"
    PAGE_VIEWED = "page_viewed", "Page viewed"
    DEMO_REQUESTED = "demo_requested", "Demo requested"
    CREATED = "created", "Created"
    STATUS_CHANGED = "status_changed", "Status changed"
    ASSIGNED = "assigned", "Assigned"
    SCORED = "scored", "Scored"
    CONVERTED = "converted", "Converted"
    IMPORTED = "imported", "Imported"
    ENRICHED = "enriched", "Enriched"
    ERASED = "erased", "Personal data erased"


class EventType(models.TextChoices):
    LEAD_CREATED = "LeadCreated"
    LEAD_UPDATED = "LeadUpdated"
    LEAD_STATUS_CHANGED = "LeadStatusChanged"
    LEAD_ASSIGNED = "LeadAssigned"
    LEAD_CONVERTED = "LeadConverted"
    LEAD_DELETED = "LeadDeleted"
    PERSON_ERASED = "PersonErased"


class TokenRevokeReason(models.TextChoices):
    REVOKED = "revoked", "Revoked"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    USER_DEACTIVATED = "user_deactivated", "User deactivated"
    WORKSPACE_CHANGED = "workspace_changed", "User moved to another workspace"


class ConsentStatus(models.TextChoices):
    """Marketing consent of a lead or contact (docs/privacy.md). Only GIVEN allows marketing email."""

    UNKNOWN = "", "Not asked"
    GIVEN = "given", "Given"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsentSource(models.TextChoices):
    FORM = "form", "Form"
    IMPORT = "import", "Import"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe link"
