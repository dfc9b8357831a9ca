"""Request bodies the API accepts, refused with a 400 that says why before anything stores them."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

MAX_JSON_DEPTH = 20  # a lead with custom fields is three levels deep; nothing legitimate nears twenty


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what would otherwise crash later: nesting deeper than
    MAX_JSON_DEPTH (the decoder's recursion limit), and NUL characters, which PostgreSQL cannot
    store in text or JSON. The NUL error names the field where it was found."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        check_json(data)
        return data


def check_json(data: Any) -> None:
    """Raise ParseError past MAX_JSON_DEPTH, ValidationError naming the field holding a NUL character."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ValidationError({path or "non_field_errors": ["Null characters are not allowed."]})
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                raise ValidationError({path or "non_field_errors": ["Null characters are not allowed."]})
            stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))




def check_form(data) -> None:
    """Raise ValidationError naming the first form field that holds a NUL character."""
    for key, values in data.lists():
        if "\x00" in key or any(isinstance(value, str) and "\x00" in value for value in values):
            raise ValidationError({key.replace("\x00", "") or "non_field_errors": ["Null characters are not allowed."]})


class FormParser(parsers.FormParser):
    """DRF's form parser, refusing NUL characters in any field (a website form's extra fields included)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing NUL characters in any field."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        check_form(parsed.data)
        return parsed
