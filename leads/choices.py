from django.db import models


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    CONVERTED = "converted", "Converted"
    DISQUALIFIED = "disqualified", "Disqualified"


OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
FINAL_STATUSES = (LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED)

# Document 002's pipeline (new -> contacted -> qualified -> proposal -> closed_won / closed_lost). The
# last three live on the converted lead's deal (leads/pipeline.py); the lead's status reads them back.
class PipelineStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    PROPOSAL = "proposal", "Proposal"
    CLOSED_WON = "closed_won", "Closed won"
    CLOSED_LOST = "closed_lost", "Closed lost"


# The contract documents' names for our values, accepted wherever the value is sent.
SOURCE_ALIASES = {"website": "website_form"}
PRIORITY_ALIASES = {"normal": "medium"}

# The strict pipeline's handoff bar (conversion) and the prediction's "transfer to sales" advice.
STRICT_MIN_PROBABILITY = 0.6


class LeadSource(models.TextChoices):
    WEBSITE_FORM = "website_form", "Website form"
    FACEBOOK_LEAD_AD = "facebook_lead_ad", "Facebook lead ad"
    GOOGLE_LEAD_FORM = "google_lead_form", "Google lead form"
    CHAT = "chat", "Chat"
    API = "api", "API"
    MANUAL = "manual", "Manual entry"
    IMPORT = "import", "Import"
    REFERRAL = "referral", "Referral"
    SOCIAL = "social", "Social media"
    PARTNER = "partner", "Partner"
    SCANNER = "scanner", "Scanner (badge or card)"
    OTHER = "other", "Other"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class ScoreBand(models.TextChoices):
    COLD = "cold", "Cold"
    WARM = "warm", "Warm"
    HOT = "hot", "Hot"


class Grade(models.TextChoices):
    A_PLUS = "A+", "A+"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
    F = "F", "F"


class Recommendation(models.TextChoices):
    TRANSFER_TO_SALES = "transfer_to_sales", "Transfer to sales"
    CONTINUE_QUALIFICATION = "continue_qualification", "Continue qualification"
    DROP_LEAD = "drop_lead", "Drop lead"


class ChannelKind(models.TextChoices):
    WEBSITE_FORM = "website_form", "Website form"
    FACEBOOK_LEAD_ADS = "facebook_lead_ads", "Facebook Lead Ads"
    GOOGLE_LEAD_FORM = "google_lead_form", "Google Ads lead form"


# The lead source each ad channel's leads get.
AD_CHANNEL_SOURCES = {
    ChannelKind.FACEBOOK_LEAD_ADS: LeadSource.FACEBOOK_LEAD_AD,
    ChannelKind.GOOGLE_LEAD_FORM: LeadSource.GOOGLE_LEAD_FORM,
}


class CampaignPlatform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    GOOGLE = "google", "Google Ads"
    OTHER = "other", "Named on a form or import"


class AdLeadStatus(models.TextChoices):
    RECEIVED = "received", "Received, fetching"
    CAPTURED = "captured", "Captured"
    FAILED = "failed", "Failed"


class RuleCategory(models.TextChoices):
    DEMOGRAPHIC = "demographic", "Demographic"
    FIRMOGRAPHIC = "firmographic", "Firmographic"
    BEHAVIOURAL = "behavioural", "Behavioural"


class RuleOperator(models.TextChoices):
    EQUALS = "equals", "equals"
    CONTAINS = "contains", "contains"
    STARTS_WITH = "starts_with", "starts with"
    ENDS_WITH = "ends_with", "ends with"
    GREATER_THAN = "gt", "greater than"
    LESS_THAN = "lt", "less than"
    IN_LIST = "in_list", "in list"
    IS_SET = "is_set", "is set"
    IS_EMPTY = "is_empty", "is empty"
    ACTIVITY_COUNT = "activity_count", "activity count at least"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class WorkKind(models.TextChoices):
    TRAINING = "training", "Training the conversion model"
    RESCORING = "rescoring", "Rescoring the leads"


class WorkStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", "Skip the row"
    UPDATE = "update", "Fill the existing lead's empty fields"
