from leads.admin import registrations  # noqa: F401  (autodiscover imports leads.admin: the registrations live here)
from leads.admin import engine_work  # noqa: F401,E402
