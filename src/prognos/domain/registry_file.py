"""The registry file: the installed base (and the service resources) as one JSON or YAML file.

``RegistryFile`` is the file's format: the domain objects with no unknown key allowed, so a
misspelt key is an error instead of a silent default (``"type"`` for ``type_id`` would otherwise
fail later as a missing field, far from its cause). ``registry_schema()`` is its JSON Schema
(``prognos registry schema``). ``problems(doc)`` checks a whole document and names every problem
by its path in the file (``assets[3].type_id``) with the fix, so a file is corrected in one go
and nothing is saved until all of it is right.
"""

from __future__ import annotations

import difflib
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from prognos.domain.assets import Asset, AssetType, Channel, Customer, Site
from prognos.domain.planning import CostModel, Crew, PartStock, Travel

SECTIONS = ("customers", "sites", "asset_types", "assets", "crews", "parts", "cost_models")
_STRICT = ConfigDict(extra="forbid")
_ID_RULE = "ids start with a letter or digit and hold letters, digits and _ . : - (at most 128)"
_CHANNEL_RULE = "channel names hold letters, digits and _ . - only (no spaces, at most 64)"


class CustomerEntry(Customer):
    model_config = ConfigDict(extra="forbid", title="Customer")


class SiteEntry(Site):
    model_config = ConfigDict(extra="forbid", title="Site")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r}: use an IANA name such as Europe/Berlin or UTC"
            ) from None
        return v


class ChannelEntry(Channel):
    model_config = ConfigDict(extra="forbid", title="Channel")


class AssetTypeEntry(AssetType):
    model_config = ConfigDict(extra="forbid", title="AssetType")
    channels: list[ChannelEntry] = Field(default_factory=list)


class AssetEntry(Asset):
    model_config = ConfigDict(extra="forbid", title="Asset")


class CrewEntry(Crew):
    model_config = ConfigDict(extra="forbid", title="Crew")


class PartEntry(PartStock):
    model_config = ConfigDict(extra="forbid", title="PartStock")


class CostModelEntry(CostModel):
    model_config = ConfigDict(extra="forbid", title="CostModel")


class TravelEntry(Travel):
    model_config = ConfigDict(extra="forbid", title="Travel")


class RegistryFile(BaseModel):
    """What ``prognos registry load`` reads: every section optional, loaded in this order."""

    model_config = ConfigDict(
        extra="forbid",
        title="prognos registry file",
        json_schema_extra={
            "description": "Customers, their sites, asset types with their channels, assets; "
            "optionally the service resources the planner needs (crews, parts, cost models, "
            "travel). Times are ISO 8601; a time without a zone is UTC."
        },
    )
    customers: list[CustomerEntry] = Field(default_factory=list)
    sites: list[SiteEntry] = Field(default_factory=list)
    asset_types: list[AssetTypeEntry] = Field(default_factory=list)
    assets: list[AssetEntry] = Field(default_factory=list)
    crews: list[CrewEntry] = Field(default_factory=list)
    parts: list[PartEntry] = Field(default_factory=list)
    cost_models: list[CostModelEntry] = Field(
        default_factory=list, description="One per asset type (its asset_type names it)."
    )
    travel: TravelEntry | None = None


def registry_schema() -> dict[str, Any]:
    """The registry file's JSON Schema (draft 2020-12, as pydantic writes it)."""
    schema = RegistryFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def path_of(loc: tuple) -> str:
    """A pydantic location as the file's path: ``('assets', 3, 'type_id')`` -> ``assets[3].type_id``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields_at(loc: tuple) -> list[str]:
    """The keys allowed at the object ``loc`` points into (for "did you mean")."""
    model: Any = RegistryFile
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        inner = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), ann)
        model = inner
    return list(model.model_fields) if hasattr(model, "model_fields") else []


def _label(doc: dict, loc: tuple) -> str:
    """``assets[3]`` with the record's id when it has one: ``assets[3] (id 'pump-4')``."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        try:
            rec = doc[loc[0]][loc[1]]
        except (KeyError, IndexError, TypeError):
            rec = None
        rid = rec.get("id") if isinstance(rec, dict) else None
        if rid is not None:
            return f"{path_of(loc[:2])} (id {rid!r})"
    return path_of(loc[:2]) if loc else "the file"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip()).strip("_")[:64] or "channel"


def _explain(err: dict, doc: dict, extras: dict[tuple, list[str]]) -> str | None:
    loc = tuple(err["loc"])
    where = path_of(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _fields_at(loc[:-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}?" if close else f"allowed keys: {', '.join(allowed)}"
        return f"{where}: unknown key {key!r} ({hint})"
    if kind == "missing":
        key = str(loc[-1])
        near = difflib.get_close_matches(key, extras.get(loc[:-1], []), n=1, cutoff=0.5)
        if near:  # reported with the unknown key it was probably meant as
            return None
        return f"{where}: required, and missing from {_label(doc, loc[:-1])}"
    msg = err["msg"]
    if kind == "string_pattern_mismatch":
        value = err.get("input")
        if loc[-1] == "name" and "channels" in loc:
            msg = f"{value!r} is not a channel name: {_CHANNEL_RULE}; try {_slug(str(value))!r}"
        else:
            msg = f"{value!r} is not a valid id: {_ID_RULE}"
    elif kind == "value_error":
        msg = msg.removeprefix("Value error, ")
    elif "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{msg} (got {err['input']!r})"
    return f"{where}: {msg}"


def problems(doc: Any) -> tuple[RegistryFile | None, list[str]]:
    """The document as a ``RegistryFile``, or None and every problem, each with its path."""
    if not isinstance(doc, dict):
        return None, [f"the file holds a {type(doc).__name__}, not an object with {SECTIONS}"]
    try:
        return RegistryFile.model_validate(doc), []
    except ValidationError as e:
        errors = e.errors()
    extras: dict[tuple, list[str]] = {}
    for err in errors:
        if err["type"] == "extra_forbidden":
            extras.setdefault(tuple(err["loc"][:-1]), []).append(str(err["loc"][-1]))
    out = [m for err in errors if (m := _explain(err, doc, extras))]
    return None, list(dict.fromkeys(out))


def cross_problems(
    f: RegistryFile,
    known_customers: set[str],
    known_sites: dict[str, str],
    known_types: set[str],
    known_assets: set[str],
) -> list[str]:
    """References between records (and to what is already registered), and ids given twice.

    ``known_sites`` maps a stored site to its customer.
    """
    out: list[str] = []
    for section in ("customers", "sites", "asset_types", "assets", "crews"):
        seen: dict[str, int] = {}
        for i, rec in enumerate(getattr(f, section)):
            if rec.id in seen:
                out.append(f"{section}[{i}].id: {rec.id!r} is also {section}[{seen[rec.id]}]")
            seen.setdefault(rec.id, i)
    customers = known_customers | {c.id for c in f.customers}
    sites = {**known_sites, **{s.id: s.customer_id for s in f.sites}}
    types = known_types | {t.id for t in f.asset_types}
    assets = known_assets | {a.id for a in f.assets}

    def suggest(value: str, pool: set[str], section: str) -> str:
        close = difflib.get_close_matches(value, sorted(pool), n=1, cutoff=0.6)
        if close:
            return f"did you mean {close[0]!r}?"
        return f"add it to {section} first" if pool else f"the file has no {section}"

    for i, s in enumerate(f.sites):
        if s.customer_id not in customers:
            out.append(
                f"sites[{i}].customer_id: no customer {s.customer_id!r} "
                f"({suggest(s.customer_id, customers, 'customers')})"
            )
    for i, a in enumerate(f.assets):
        where = f"assets[{i}]"
        if a.site_id not in sites:
            out.append(
                f"{where}.site_id: no site {a.site_id!r} ({suggest(a.site_id, set(sites), 'sites')})"
            )
        elif sites[a.site_id] != a.customer_id:
            out.append(
                f"{where}.customer_id: site {a.site_id} belongs to {sites[a.site_id]!r}, "
                f"not {a.customer_id!r}"
            )
        if a.type_id not in types:
            out.append(
                f"{where}.type_id: no asset type {a.type_id!r} "
                f"({suggest(a.type_id, types, 'asset_types')})"
            )
        if a.parent_id is not None and a.parent_id not in assets:
            out.append(f"{where}.parent_id: no asset {a.parent_id!r}")
    for i, t in enumerate(f.asset_types):
        names = [c.name for c in t.channels]
        for name in sorted({n for n in names if names.count(n) > 1}):
            out.append(f"asset_types[{i}].channels: {name!r} is named twice")
        for ch in t.failure_threshold:
            if ch not in names:
                out.append(f"asset_types[{i}].failure_threshold: {ch!r} is not one of its channels")
    for i, c in enumerate(f.cost_models):
        if c.asset_type not in types:
            out.append(
                f"cost_models[{i}].asset_type: no asset type {c.asset_type!r} "
                f"({suggest(c.asset_type, types, 'asset_types')})"
            )
    return out
