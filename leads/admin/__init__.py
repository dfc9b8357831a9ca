from leads.admin import registrations  # noqa: F401  (autodiscover imports leads.admin: the registrations live here)
