"""Form definitions as data, and the marshmallow schemas built from them.

A definition file in ``forms/`` lists the questions (name, type, bounds, choices, labels)
and the cross-field rules. The same definition drives the HTML form, the validation below
and the export columns, so adding a question is an edit of that file only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
from marshmallow import RAISE, Schema, ValidationError, fields, missing, post_load, validate, validates_schema

from .form_fields import Choice, Choices, Count, StrictDate, Text, UUIDText
from .form_rules import Messages, Window, field_messages
from .gazetteer import Gazetteer

__all__ = ["FormDefinition", "load_form", "SchemaFactory"]


@dataclass(frozen=True)
class FormDefinition:
    """A parsed form definition: fields in order, rules, and how it aggregates."""

    name: str
    version: int
    title: dict[str, str]
    fields: tuple[dict, ...]
    rules: tuple[dict, ...]
    aggregate: dict

    def field(self, name: str) -> dict:
        """The definition of one field."""
        return self.by_name[name]

    @cached_property
    def by_name(self) -> dict[str, dict]:
        return {f["name"]: f for f in self.fields}

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(f["name"] for f in self.fields)

    @cached_property
    def choice_ranks(self) -> dict[str, dict[str, int]]:
        """Each choices field's values -> their place in the definition, to store picks in that order."""
        ranks: dict[str, dict[str, int]] = {}
        for spec in self.fields:
            if spec["type"] == "choices":
                ranks[spec["name"]] = {}
                for i, choice in enumerate(spec["choices"]):
                    ranks[spec["name"]].setdefault(choice["value"], i)
        return ranks

    @cached_property
    def date_names(self) -> tuple[str, ...]:
        return self.names_of_type("date")

    @cached_property
    def date_fields(self) -> tuple[dict, ...]:
        """The definitions of the date fields: the only ones the date checks look at."""
        return tuple(f for f in self.fields if f["type"] == "date")

    @cached_property
    def sum_rules(self) -> tuple[tuple[dict, tuple[str, ...]], ...]:
        """Each cross-field rule with every field it adds up (both sides), named once."""
        return tuple((rule, (*rule["sum"], *rule["at_most"])) for rule in self.rules)

    def names_of_type(self, *types: str) -> tuple[str, ...]:
        """Field names of the given types, in form order."""
        return tuple(f["name"] for f in self.fields if f["type"] in types)

    def label(self, name: str, lang: str) -> str:
        """A field's label in ``lang``."""
        return self.field(name)["label"][lang]

    def choice_labels(self, name: str, lang: str) -> dict[str, str]:
        """Value -> label for a choices field, in definition order."""
        return {c["value"]: c["label"][lang] for c in self.field(name).get("choices", [])}


def load_form(path: str | Path) -> FormDefinition:
    """Read and check a definition file; a malformed file fails at start-up, not mid-campaign."""
    raw = orjson.loads(Path(path).read_bytes())
    known_types = {"uuid", "commune", "agency", "text", "integer", "choices", "date"}
    for f in raw["fields"]:
        if f["type"] not in known_types:
            raise ValueError(f"{path}: field {f['name']!r} has unknown type {f['type']!r}")
        if set(f["label"]) != {"vi", "en"}:
            raise ValueError(f"{path}: field {f['name']!r} needs labels in vi and en")
        if f.get("window") not in (None, "campaign"):
            raise ValueError(f"{path}: field {f['name']!r}: the only window is \"campaign\" (the settings' visit days)")
        if f.get("pattern") and set(f.get("pattern_message", {})) != {"vi", "en"}:
            raise ValueError(f"{path}: field {f['name']!r} has a pattern but no pattern_message in vi and en")
    names = {f["name"] for f in raw["fields"]}
    for rule in raw.get("rules", []):
        missing = ({rule["field"]} | set(rule["sum"]) | set(rule["at_most"])) - names
        if missing:
            raise ValueError(f"{path}: a rule names unknown fields {sorted(missing)}")
    return FormDefinition(raw["form"], raw["version"], raw["title"], tuple(raw["fields"]),
                          tuple(raw.get("rules", [])), raw.get("aggregate", {}))


class _FormSchema(Schema):
    """Base of every generated schema: applies the definition's cross-field rules."""

    form: FormDefinition
    msg: Messages
    today: Callable[[], dt.date]
    window: Window | None

    class Meta:
        unknown = RAISE

    @cached_property
    def _own_names(self) -> tuple[tuple[tuple[str, fields.Field], ...], frozenset[str]] | None:
        """The load fields and their names, when each field is keyed by its own name."""
        items = tuple(self.load_fields.items())
        if any(f.data_key is not None or f.attribute is not None or "." in name for name, f in items):
            return None
        return items, frozenset(name for name, _ in items)

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None,  # type: ignore[override]
             unknown: str | None = None) -> Any:
        """marshmallow's load. A form record that passes every check is loaded here by the same
        steps in the same order (each field, the cross-field rules, ``_finish``) without
        marshmallow's hook dispatch and error store, a third of a submission's validation. A
        record with anything to refuse, and any other call, is loaded by marshmallow, which
        words the messages."""
        own = self._own_names
        if (many or partial or unknown or self.many or self.partial or type(data) is not dict or own is None
                or not data.keys() <= own[1]):
            return super().load(data, many=many, partial=partial, unknown=unknown)
        out = self.dict_class()
        try:
            for name, field in own[0]:
                value = field.deserialize(data.get(name, missing), name, data)
                if value is not missing:
                    out[name] = value
            self._check_rules(out)
        except ValidationError:
            return super().load(data, many=many, partial=partial, unknown=unknown)
        return self._finish(out)

    def _deserialize(self, data: Any, *, error_store: Any, many: bool = False, partial: Any = None,
                     unknown: str = RAISE, index: int | None = None) -> Any:
        """marshmallow's field loop for what a form loads (one dict, nothing partial, unknown
        keys refused), without the closure and keyword dict it makes per field: a tenth of a
        submission's validation. Any other call is marshmallow's own."""
        own = self._own_names
        if many or partial is not None or unknown != RAISE or type(data) is not dict or own is None:
            return super()._deserialize(data, error_store=error_store, many=many, partial=partial,
                                        unknown=unknown, index=index)
        index = index if self.opts.index_errors else None
        out = self.dict_class()
        for name, field in own[0]:
            try:
                value = field.deserialize(data.get(name, missing), name, data)
            except ValidationError as error:
                error_store.store_error(error.messages, name, index=index)
                value = error.valid_data or missing
            if value is not missing:
                out[name] = value
        for key in set(data) - own[1]:
            error_store.store_error([self.error_messages["unknown"]], key, index)
        return out

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = self._check_dates(data)
        for rule, terms in self.form.sum_rules:
            if not all(isinstance(data.get(n), int) for n in terms):
                continue  # a missing or bad term is already reported on its own field
            if sum(data[n] for n in rule["sum"]) > sum(data[n] for n in rule["at_most"]):
                errors.setdefault(rule["field"], []).append(rule["message"][self.msg.lang])
        if errors:
            raise ValidationError(errors)

    def _check_dates(self, data: dict) -> dict[str, list[str]]:
        """Not in the future, inside the campaign window: checked here so a default date is too."""
        errors: dict[str, list[str]] = {}
        for spec in self.form.date_fields:
            value = data.get(spec["name"])
            if not isinstance(value, dt.date):
                continue
            if spec.get("not_future") and value > self.today():
                errors[spec["name"]] = [self.msg("future")]
            elif spec.get("window") and self.window is not None:
                first, last = self.window()
                if not first <= value <= last:
                    errors[spec["name"]] = [field_messages(spec, self.msg, self.window)["window"]]
        return errors

    @post_load
    def _finish(self, data: dict, **kwargs: Any) -> dict:
        for name in self.form.date_names:
            if isinstance(data.get(name), dt.date):
                data[name] = data[name].isoformat()
        for name, ranks in self.form.choice_ranks.items():
            if name in data:
                data[name] = sorted(set(data[name]), key=ranks.__getitem__)
        return data


class SchemaFactory:
    """Builds (and keeps) one schema class per language for a form definition."""

    def __init__(self, form: FormDefinition, gazetteer: Gazetteer, today: Callable[[], dt.date],
                 agencies: Callable[[], Iterable[str]] = tuple, window: Window | None = None):
        self.form = form
        self.gazetteer = gazetteer
        self.today = today
        self.window = window  # (first, last) day of visits, read at each validation: settings change
        self.agencies = agencies  # read at each validation: the Department edits the registry
        self._classes: dict[str, type[Schema]] = {}
        self._instances: dict[str, Schema] = {}

    def schema(self, lang: str = "vi", **kwargs: Any) -> Schema:
        """A schema instance that reports errors in ``lang``."""
        if lang not in self._classes:
            self._classes[lang] = self._build(lang)
            self._instances[lang] = self._classes[lang]()
        # Building a schema deep-copies every field; a plain one is reused (load keeps no state).
        return self._classes[lang](**kwargs) if kwargs else self._instances[lang]

    def _build(self, lang: str) -> type[Schema]:
        msg = Messages(lang)
        attrs: dict[str, Any] = {"form": self.form, "msg": msg, "today": staticmethod(self.today),
                                 "window": staticmethod(self.window) if self.window else None}
        for spec in self.form.fields:
            attrs[spec["name"]] = self._field(spec, msg)
        attrs["Meta"] = type("Meta", (), {"unknown": RAISE})
        cls = type(f"{self.form.name.title()}Schema_{lang}", (_FormSchema,), attrs)
        cls.error_messages = {**Schema.error_messages, "unknown": msg("unknown_field")}
        return cls

    def _field(self, spec: dict, msg: Messages) -> fields.Field:
        """One marshmallow field for one question of the definition, its texts from ``field_messages``."""
        kind = spec["type"]
        said = field_messages(spec, msg, self.window, self.gazetteer.province.name)
        common: dict[str, Any] = {"required": spec.get("required", False)}
        errors = {**msg.base(), "invalid": said["invalid"]}
        checks: list = []
        if kind == "integer" or kind == "commune":
            if kind == "integer":
                checks.append(validate.Range(spec["min"], spec["max"], error=said["range"]))
            else:
                checks.append(self._commune_check(said["not_commune"]))
            return Count(strict=True, validate=checks, error_messages=errors, **common)
        if kind == "text":
            if spec.get("min_length"):
                checks.append(validate.Length(min=spec["min_length"], error=said["blank"]))
            checks.append(validate.Length(max=spec["max_length"], error=said["max_length"]))
            if spec.get("pattern"):
                checks.append(validate.Regexp(spec["pattern"], error=said["pattern"]))
            return Text(multiline=spec.get("multiline", False), bad_chars_message=said["bad_chars"],
                        validate=checks, error_messages=errors, **common)
        if kind == "agency":
            return Text(bad_chars_message=said["bad_chars"], validate=[self._agency_check(said["not_agency"])],
                        error_messages=errors, **common)
        if kind == "uuid":
            errors["invalid_uuid"] = said["invalid"]
            return UUIDText(error_messages=errors, **common)
        if kind == "date":
            errors["format"] = said["invalid"]
            if spec.get("default") == "today" and not common["required"]:
                common["load_default"] = self.today
            return StrictDate(error_messages=errors, **common)
        if kind == "choices":
            values = [c["value"] for c in spec["choices"]]
            inner = Choice(validate=validate.OneOf(values, error=said["choice"]),
                           error_messages={"invalid": msg("not_text")})
            return Choices(inner, load_default=list, error_messages=errors, required=False)
        raise ValueError(kind)

    def _commune_check(self, message: str) -> Callable[[int], None]:
        communes = self.gazetteer.communes

        def check(value: int) -> None:
            if value not in communes:
                raise ValidationError(message)
        return check

    def _agency_check(self, message: str) -> Callable[[str], None]:
        def check(value: str) -> None:
            if value not in set(self.agencies()):
                raise ValidationError(message)
        return check


def new_id() -> str:
    """A fresh record id, as clients are asked to make them."""
    return str(uuid.uuid4())


def from_form_post(form: FormDefinition, post: Any) -> dict:
    """Turn an HTML form post (all strings) into the JSON shape the schema validates.

    Empty optional inputs are left out; numbers that do not parse are passed on as text so
    that the schema reports them on their field.
    """
    data: dict[str, Any] = {}
    for spec in form.fields:
        name = spec["name"]
        if spec["type"] == "choices":
            data[name] = post.getlist(name)
            continue
        value = post.get(name)
        if value is None or value.strip() == "":
            if spec["type"] == "text" and spec.get("required") and value is not None:
                data[name] = value
            continue
        if spec["type"] in ("integer", "commune"):
            stripped = value.strip()
            numeric = stripped.lstrip("-").isdigit() and stripped.isascii() and len(stripped) <= 18
            data[name] = int(stripped) if numeric else value
        else:
            data[name] = value
    return data
