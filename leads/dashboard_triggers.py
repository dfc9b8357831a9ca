"""Database triggers that mark a lead's stored dashboard facts stale (leads_dashboard_stale), whatever door changed
the lead: a service, the admin, an import (COPY too), a queryset .update(), a raw statement.

A lead is marked when it is inserted or deleted, when a column the dashboard reads changes, and when a status
change on its timeline is written, edited or deleted (a disqualified lead's "reached contacted" reads them).
PostgreSQL uses statement-level triggers with transition tables, so a bulk statement marks its rows in one
INSERT ... SELECT; SQLite row-level ones.

SQLite drops a table's triggers when Django's schema editor rebuilds the table (any later migration that alters
leads_lead or crm_activity), so `install` is also run after every migrate (leads/apps.py); it is idempotent.
"""

from __future__ import annotations

# What a lead's stored facts are made of (dashboard_rollup.facts): a change to any of them marks the lead.
LEAD_COLUMNS = (
    "tenant_id", "created_at", "owner_id", "source", "source_campaign_id", "score_band", "status",
    "first_contacted_at", "qualified_at", "is_test",
)
STALE = "leads_dashboard_stale"
TRIGGERS = (
    ("leads_lead", "dash_stale_lead_ins"), ("leads_lead", "dash_stale_lead_upd"), ("leads_lead", "dash_stale_lead_del"),
    ("crm_activity", "dash_stale_act_ins"), ("crm_activity", "dash_stale_act_upd"),
    ("crm_activity", "dash_stale_act_del"),
)
_STATUS_CHANGE = "kind = 'status_changed' AND lead_id IS NOT NULL"


def _postgresql() -> list[str]:
    old = ", ".join(f"o.{c}" for c in LEAD_COLUMNS)
    new = ", ".join(f"n.{c}" for c in LEAD_COLUMNS)
    bodies = {
        "dash_stale_lead_ins": ("INSERT", "NEW TABLE AS n", "SELECT tenant_id, id FROM n"),
        "dash_stale_lead_del": ("DELETE", "OLD TABLE AS o", "SELECT tenant_id, id FROM o"),
        "dash_stale_lead_upd": (
            "UPDATE", "OLD TABLE AS o NEW TABLE AS n",
            f"SELECT n.tenant_id, n.id FROM n JOIN o ON o.id = n.id WHERE ({old}) IS DISTINCT FROM ({new}) "
            "UNION ALL SELECT o.tenant_id, o.id FROM n JOIN o ON o.id = n.id WHERE o.tenant_id <> n.tenant_id",
        ),
        "dash_stale_act_ins": ("INSERT", "NEW TABLE AS n", f"SELECT tenant_id, lead_id FROM n WHERE {_STATUS_CHANGE}"),
        "dash_stale_act_del": ("DELETE", "OLD TABLE AS o", f"SELECT tenant_id, lead_id FROM o WHERE {_STATUS_CHANGE}"),
        "dash_stale_act_upd": (
            "UPDATE", "OLD TABLE AS o NEW TABLE AS n",
            f"SELECT tenant_id, lead_id FROM o WHERE {_STATUS_CHANGE} "
            f"UNION SELECT tenant_id, lead_id FROM n WHERE {_STATUS_CHANGE}",
        ),
    }
    statements = []
    for table, name in TRIGGERS:
        event, transition, select = bodies[name]
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {STALE} (tenant_id, lead_id) {select}; RETURN NULL; END $$",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


def _sqlite() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in LEAD_COLUMNS)
    old_change = _STATUS_CHANGE.replace("kind", "OLD.kind").replace("lead_id", "OLD.lead_id")
    new_change = _STATUS_CHANGE.replace("kind", "NEW.kind").replace("lead_id", "NEW.lead_id")
    mark = f"INSERT INTO {STALE} (tenant_id, lead_id)"
    return [
        "CREATE TRIGGER IF NOT EXISTS dash_stale_lead_ins AFTER INSERT ON leads_lead BEGIN "
        f"{mark} VALUES (NEW.tenant_id, NEW.id); END",
        "CREATE TRIGGER IF NOT EXISTS dash_stale_lead_del AFTER DELETE ON leads_lead BEGIN "
        f"{mark} VALUES (OLD.tenant_id, OLD.id); END",
        f"CREATE TRIGGER IF NOT EXISTS dash_stale_lead_upd AFTER UPDATE ON leads_lead WHEN {changed} BEGIN "
        f"{mark} VALUES (NEW.tenant_id, NEW.id); "
        f"{mark} SELECT OLD.tenant_id, OLD.id WHERE OLD.tenant_id IS NOT NEW.tenant_id; END",
        f"CREATE TRIGGER IF NOT EXISTS dash_stale_act_ins AFTER INSERT ON crm_activity WHEN {new_change} BEGIN "
        f"{mark} VALUES (NEW.tenant_id, NEW.lead_id); END",
        f"CREATE TRIGGER IF NOT EXISTS dash_stale_act_del AFTER DELETE ON crm_activity WHEN {old_change} BEGIN "
        f"{mark} VALUES (OLD.tenant_id, OLD.lead_id); END",
        "CREATE TRIGGER IF NOT EXISTS dash_stale_act_upd AFTER UPDATE ON crm_activity "
        f"WHEN ({old_change}) OR ({new_change}) BEGIN "
        f"{mark} SELECT OLD.tenant_id, OLD.lead_id WHERE {old_change}; "
        f"{mark} SELECT NEW.tenant_id, NEW.lead_id WHERE {new_change}; END",
    ]


def install_sql(vendor: str) -> list[str]:
    """The statements that (re)create the triggers on this database vendor; safe to run again."""
    if vendor == "postgresql":
        return _postgresql()
    if vendor == "sqlite":
        return _sqlite()
    raise NotImplementedError(f"The dashboard's stale-marking triggers are written for PostgreSQL and SQLite, not {vendor}.")


def uninstall_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}()" for table, name in TRIGGERS]
    return [f"DROP TRIGGER IF EXISTS {name}" for _, name in TRIGGERS]


def install(connection) -> None:
    with connection.cursor() as cursor:
        for statement in install_sql(connection.vendor):
            cursor.execute(statement)
