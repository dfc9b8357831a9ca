from leads.admin import (
    engine_work,  # noqa: F401,E402
    registrations,  # noqa: F401  (autodiscover imports leads.admin: the registrations live here)
)
