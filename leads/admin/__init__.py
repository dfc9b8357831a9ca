from leads.admin import (
    activities,  # noqa: F401  (the Activities page through the timeline services)
    engine_work,  # noqa: F401,E402
    registrations,  # noqa: F401  (autodiscover imports leads.admin: the registrations live here)
)
