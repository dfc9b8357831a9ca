"""What the big CRMs' default exports look like, as data: their headers, and their words for our values.

A profile says which headers betray an export (`markers`: any two of them, and the profile whose
markers the header holds most wins), which lead field each of its default columns feeds
(`columns`), and how its vocabularies (lead status, lifecycle stage, lead source or original
source, rating) read as ours (`values`: field -> their word -> our value). Words compare
folded (case and punctuation ignored, as headers do). The operator's own mapping (--map, a saved
mapping, the admin's dropdowns) always wins over a profile. Every profile's words are also known
when no profile is detected (`COMMON_VALUES`), as long as no two CRMs disagree on one.

docs/importing.md lists these profiles and their value maps; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..choices import LeadSource, LeadStatus, Priority
from .folding import fold

NEW, CONTACTED, QUALIFIED = LeadStatus.NEW.value, LeadStatus.CONTACTED.value, LeadStatus.QUALIFIED.value
CONVERTED, DISQUALIFIED = LeadStatus.CONVERTED.value, LeadStatus.DISQUALIFIED.value
WEB, REFERRAL, PARTNER, SOCIAL, CHAT = (LeadSource.WEBSITE_FORM.value, LeadSource.REFERRAL.value,
                                        LeadSource.PARTNER.value, LeadSource.SOCIAL.value, LeadSource.CHAT.value)
OTHER, IMPORT, MANUAL, API = LeadSource.OTHER.value, LeadSource.IMPORT.value, LeadSource.MANUAL.value, LeadSource.API.value
RATING = {"Hot": Priority.HIGH.value, "Warm": Priority.MEDIUM.value, "Cold": Priority.LOW.value}


@dataclass(frozen=True)
class Profile:
    name: str  # what --profile takes
    label: str
    markers: tuple[str, ...]
    columns: dict[str, str]  # their header -> our field (or "custom:<name>", or "ignore")
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # our field -> their word -> our value
    date_order: str = "mdy"  # how a date such as 03/04/2025 is read when the column does not settle it

    def folded_columns(self) -> dict[str, str]:
        return {fold(header): target for header, target in self.columns.items()}

    def folded_values(self) -> dict[str, dict[str, str]]:
        return {name: {fold(word): value for word, value in words.items()} for name, words in self.values.items()}


# fmt: off
SALESFORCE = Profile(
    name="salesforce", label="Salesforce (lead export or report)",
    markers=("Lead ID", "Created Date", "Zip/Postal Code", "State/Province", "LeadSource", "OwnerId", "IsConverted",
             "NumberOfEmployees", "CreatedDate", "Lead Record Type", "Converted Date", "Last Activity"),
    columns={
        "Lead ID": "external_id", "Id": "external_id", "Salutation": "ignore", "First Name": "first_name",
        "Last Name": "last_name", "Title": "job_title", "Company": "company", "Email": "email", "Phone": "phone",
        "Mobile": "custom:Mobile", "Lead Source": "source", "LeadSource": "source", "Lead Status": "status",
        "Status": "status", "Rating": "priority", "Industry": "industry", "No. of Employees": "employee_count",
        "NumberOfEmployees": "employee_count", "Annual Revenue": "annual_revenue", "AnnualRevenue": "annual_revenue",
        "Website": "website", "Country": "country", "Lead Owner": "owner", "Owner": "owner", "OwnerId": "owner",
        "Created Date": "created_at", "CreatedDate": "created_at", "Converted Date": "converted_at",
        "ConvertedDate": "converted_at", "Description": "message", "Email Opt Out": "marketing_opt_out",
        "HasOptedOutOfEmail": "marketing_opt_out",
    },
    values={
        "status": {"Open - Not Contacted": NEW, "Working - Contacted": CONTACTED, "Closed - Converted": CONVERTED,
                   "Closed - Not Converted": DISQUALIFIED, "Open": NEW, "Contacted": CONTACTED, "Nurturing": CONTACTED,
                   "Qualified": QUALIFIED, "Unqualified": DISQUALIFIED},
        "source": {"Web": WEB, "Phone Inquiry": OTHER, "Partner Referral": PARTNER, "Purchased List": IMPORT,
                   "Partner": PARTNER, "Employee Referral": REFERRAL, "External Referral": REFERRAL,
                   "Trade Show": OTHER, "Word of mouth": REFERRAL, "Advertisement": OTHER, "Other": OTHER},
        "priority": RATING,
    },
)

HUBSPOT = Profile(
    name="hubspot", label="HubSpot (contacts export)",
    markers=("Record ID", "Contact owner", "Lifecycle Stage", "Original Source", "Country/Region", "State/Region",
             "Create Date", "Marketing contact status", "Original Source Drill-Down 1", "Associated Company",
             "Website URL", "Mobile Phone Number"),
    columns={
        "Record ID": "external_id", "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Phone Number": "phone", "Mobile Phone Number": "custom:Mobile Phone Number", "Company Name": "company",
        "Job Title": "job_title", "Contact owner": "owner", "Lead Status": "status",
        "Lifecycle Stage": "lifecycle_stage", "Original Source": "source", "Country/Region": "country",
        "Industry": "industry", "Number of Employees": "employee_count", "Annual Revenue": "annual_revenue",
        "Website URL": "website", "Create Date": "created_at", "Became a Customer Date": "converted_at",
        "Unsubscribed from all email": "marketing_opt_out", "Opted out of all email": "marketing_opt_out",
    },
    values={
        "status": {"New": NEW, "Open": NEW, "In Progress": CONTACTED, "Attempted to Contact": CONTACTED,
                   "Connected": CONTACTED, "Bad Timing": CONTACTED, "Open Deal": QUALIFIED,
                   "Unqualified": DISQUALIFIED},
        "lifecycle_stage": {"Subscriber": NEW, "Lead": NEW, "Marketing Qualified Lead": NEW,
                            "marketingqualifiedlead": NEW, "Sales Qualified Lead": QUALIFIED,
                            "salesqualifiedlead": QUALIFIED, "Opportunity": QUALIFIED, "Customer": CONVERTED,
                            "Evangelist": CONVERTED, "Other": NEW},
        "source": {"Organic Search": WEB, "Paid Search": WEB, "Direct Traffic": WEB, "Referrals": REFERRAL,
                   "AI Referrals": REFERRAL, "Social Media": SOCIAL, "Organic Social": SOCIAL, "Paid Social": SOCIAL,
                   "Email Marketing": OTHER, "Other Campaigns": OTHER, "Offline Sources": IMPORT},
    },
    date_order="mdy",
)

PIPEDRIVE = Profile(
    name="pipedrive", label="Pipedrive (leads or people export)",
    markers=("Person - Name", "Lead - Title", "Lead - Owner", "Lead - Source", "Organization - Name",
             "Person - Email - Work", "Person - Phone - Work", "Lead - Labels", "Person - Owner"),
    columns={
        "Lead - ID": "external_id", "Lead - Title": "custom:Lead title", "Person - Name": "name",
        "Person - First name": "first_name", "Person - Last name": "last_name",
        "Person - Email - Work": "email", "Person - Email": "email", "Person - Email - Home": "custom:Home email",
        "Person - Phone - Work": "phone", "Person - Phone": "phone", "Person - Phone - Mobile": "custom:Mobile",
        "Person - Job title": "job_title", "Organization - Name": "company", "Lead - Owner": "owner",
        "Person - Owner": "owner", "Lead - Source": "source", "Lead - Labels": "priority",
        "Lead - Lead created": "created_at", "Lead - Created": "created_at", "Person - Person created": "created_at",
        "Organization - Number of employees": "employee_count", "Organization - Annual revenue": "annual_revenue",
        "Organization - Website": "website", "Organization - Industry": "industry",
        "Organization - Address - Country": "country", "Person - Country": "country",
        "Person - Marketing status": "marketing_consent",
    },
    values={
        "source": {"Manually created": MANUAL, "Web forms": WEB, "Web visitors": WEB, "Chatbot": CHAT,
                   "Live chat": CHAT, "Prospector": OTHER, "Import": IMPORT, "API": API, "LeadBooster": OTHER,
                   "Messaging inbox": CHAT, "Marketplace": OTHER},
        "priority": RATING,
    },
)

ZOHO = Profile(
    name="zoho", label="Zoho CRM (leads export)",
    markers=("Record Id", "Designation", "Created Time", "Skype ID", "Secondary Email", "Modified Time",
             "Lead Owner Id", "Last Activity Time", "Created By", "Modified By"),
    columns={
        "Record Id": "external_id", "Lead Owner": "owner", "Company": "company", "First Name": "first_name",
        "Last Name": "last_name", "Designation": "job_title", "Title": "job_title", "Email": "email",
        "Phone": "phone", "Mobile": "custom:Mobile", "Website": "website", "Lead Source": "source",
        "Lead Status": "status", "Industry": "industry", "No. of Employees": "employee_count",
        "Annual Revenue": "annual_revenue", "Rating": "priority", "Created Time": "created_at", "Country": "country",
        "Description": "message", "Salutation": "ignore", "Lead Owner Id": "ignore",
        "Email Opt Out": "marketing_opt_out",
    },
    values={
        "status": {"Not Contacted": NEW, "Attempted to Contact": CONTACTED, "Contact in Future": CONTACTED,
                   "Contacted": CONTACTED, "Pre-Qualified": QUALIFIED, "Qualified": QUALIFIED,
                   "Not Qualified": DISQUALIFIED, "Junk Lead": DISQUALIFIED, "Lost Lead": DISQUALIFIED},
        "source": {"Advertisement": OTHER, "Cold Call": OTHER, "Employee Referral": REFERRAL,
                   "External Referral": REFERRAL, "Online Store": WEB, "Partner": PARTNER, "Public Relations": OTHER,
                   "Sales Email Alias": OTHER, "Seminar Partner": PARTNER, "Internal Seminar": OTHER,
                   "Trade Show": OTHER, "Web Download": WEB, "Web Research": OTHER, "Chat": CHAT,
                   "Facebook": SOCIAL, "Twitter": SOCIAL, "X (Twitter)": SOCIAL},
        "priority": {**RATING, "Acquired": Priority.MEDIUM.value, "Active": Priority.MEDIUM.value,
                     "Market Failed": Priority.LOW.value, "Project Cancelled": Priority.LOW.value,
                     "Shut Down": Priority.LOW.value},
    },
)

DYNAMICS = Profile(
    name="dynamics", label="Dynamics 365 Sales (leads exported to Excel/CSV)",
    markers=("(Do Not Modify) Lead", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On", "Status Reason",
             "Business Phone", "Created On", "Topic", "Mobile Phone"),
    columns={
        "(Do Not Modify) Lead": "external_id", "(Do Not Modify) Row Checksum": "ignore",
        "(Do Not Modify) Modified On": "ignore", "Name": "name", "Topic": "custom:Topic",
        "First Name": "first_name", "Last Name": "last_name", "Job Title": "job_title",
        "Company Name": "company", "Business Phone": "phone", "Mobile Phone": "custom:Mobile Phone",
        "Email": "email", "Website": "website", "Country/Region": "country", "Lead Source": "source",
        "Status Reason": "status", "Status": "custom:Status", "Rating": "priority", "Owner": "owner",
        "Created On": "created_at", "Industry": "industry", "No. of Employees": "employee_count",
        "Annual Revenue": "annual_revenue", "Description": "message", "Bulk Email": "marketing_consent",
        "Do not allow Bulk Emails": "marketing_opt_out",
    },
    values={
        "status": {"New": NEW, "Contacted": CONTACTED, "Qualified": QUALIFIED, "Lost": DISQUALIFIED,
                   "Cannot Contact": DISQUALIFIED, "No Longer Interested": DISQUALIFIED, "Canceled": DISQUALIFIED},
        "source": {"Advertisement": OTHER, "Employee Referral": REFERRAL, "External Referral": REFERRAL,
                   "Partner": PARTNER, "Public Relations": OTHER, "Seminar": OTHER, "Trade Show": OTHER,
                   "Web": WEB, "Word of Mouth": REFERRAL, "Other": OTHER},
        "priority": RATING,
    },
)
# fmt: on

PROFILES: dict[str, Profile] = {p.name: p for p in (SALESFORCE, HUBSPOT, PIPEDRIVE, ZOHO, DYNAMICS)}
MIN_MARKERS = 2


def detect(header: list[str]) -> Profile | None:
    """The profile whose marker headers this header holds most of (at least two), or None."""
    present = {fold(name) for name in header}
    best, best_hits = None, MIN_MARKERS - 1
    for profile in PROFILES.values():
        hits = sum(1 for marker in profile.markers if fold(marker) in present)
        if hits > best_hits:
            best, best_hits = profile, hits
    return best


def _common_values() -> dict[str, dict[str, str]]:
    """Every profile's words, except a word two profiles read differently (then only its profile knows it)."""
    merged: dict[str, dict[str, str]] = {}
    clashes: set[tuple[str, str]] = set()
    for profile in PROFILES.values():
        for name, words in profile.folded_values().items():
            target = merged.setdefault(name, {})
            for word, value in words.items():
                if target.get(word, value) != value:
                    clashes.add((name, word))
                target[word] = value
    for name, word in clashes:
        merged[name].pop(word, None)
    return merged


COMMON_VALUES = _common_values()
