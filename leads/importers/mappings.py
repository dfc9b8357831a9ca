"""Saved mappings (ImportMapping): a workspace's columns-and-values choices, as the engine's options.

A saved mapping holds {header: field} and {field: {their word: our value}} and a profile name. The
doors (the command's --mapping NAME, the admin's "Saved mapping" choice) turn it into the option
lists the engine takes; what the person gives on top (--map, --map-value, the preview's dropdowns)
wins over it, because it comes later in the lists.
"""

from __future__ import annotations

from django.db import transaction

from crm.models import Tenant, User

from ..models import ImportMapping
from .headers import MappingError, parse_mapping, parse_value_mapping


def saved_mapping_options(saved: ImportMapping, *, mapping: list[str] | None = None,
                          value_mapping: list[str] | None = None, profile: str = "") -> tuple[list[str], list[str], str]:
    """(column entries, value entries, profile) of a saved mapping with the given ones on top."""
    columns = [f"{header}={target}" for header, target in saved.columns.items()]
    values = [f"{name}:{word}={value}" for name, words in saved.values.items() for word, value in words.items()]
    return [*columns, *(mapping or [])], [*values, *(value_mapping or [])], profile or saved.profile


def save_mapping(*, tenant: Tenant, name: str, columns: dict[str, str], values: dict[str, dict[str, str]],
                 profile: str = "", actor: User | None = None) -> ImportMapping:
    """Create or replace the workspace's mapping `name`. Raises MappingError naming what is wrong."""
    name = name.strip()
    if not name or len(name) > 100:
        raise MappingError("Give the mapping a name of at most 100 characters.")
    parse_mapping([f"{header}={target}" for header, target in columns.items()])
    parse_value_mapping([f"{field}:{word}={value}" for field, words in values.items() for word, value in words.items()])
    with transaction.atomic():
        saved, _created = ImportMapping.objects.update_or_create(
            tenant=tenant, name=name,
            defaults={"columns": columns, "values": values, "profile": profile, "created_by": actor},
        )
    return saved
