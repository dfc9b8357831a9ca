"""A changelist paginator that never counts a whole table.

Django's paginator runs SELECT COUNT(*) over every matching row on each page view; with a
million leads that one query costs more than the rest of the page. This one counts at most
EXACT_UP_TO + 1 rows (a LIMIT probe, cheap on an index), and above that asks PostgreSQL's
planner for its estimate, so a page view costs the same whatever the filter and page size.
(SQLite, the small embedded install, gets an exact count instead.)
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

EXACT_UP_TO = 1_000


class EstimatedCountPaginator(Paginator):
    exact_up_to = EXACT_UP_TO

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_estimate = False

    @cached_property
    def count(self):
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):  # a plain list (e.g. in tests): nothing to save
            return super().count
        probed = queryset.order_by()[: self.exact_up_to + 1].count()
        if probed <= self.exact_up_to:
            return probed
        if connections[queryset.db].vendor != "postgresql":
            return queryset.count()  # SQLite installs are small; no planner estimate to ask for
        self.is_estimate = True
        return max(probed, _planner_estimate(queryset))


def _planner_estimate(queryset) -> int:
    """PostgreSQL's row estimate for the queryset, from EXPLAIN (no rows are read)."""
    connection = connections[queryset.db]
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
