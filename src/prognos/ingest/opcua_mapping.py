"""The OPC UA mapping file: which server nodes feed which asset channels, and how to log in.

```yaml
endpoint: opc.tcp://10.0.0.5:4840/line1          # optional; the command line wins
security:                                       # optional; default: no security
  policy: Basic256Sha256
  mode: SignAndEncrypt                          # or Sign
  certificate: certs/prognos-cert.der           # the client's; relative to this file
  private_key: certs/prognos-key.pem
  server_certificate: certs/server-cert.der     # optional: pin the server's certificate
  application_uri: urn:example:prognos          # must match the URI in the client certificate
user: operator                                  # optional; password from PROGNOS_OPCUA_PASSWORD
items:
  - {node: "ns=2;s=Pump1.Temperature", asset: acme-p1, channel: temp, unit: degC}
  - {browse_path: "0:Objects/2:Pump1/2:Vibration", asset: acme-p1, channel: vibration}
```

Everything here is checked without a server; :mod:`prognos.ingest.opcua` checks the nodes on the
server and the service layer checks assets and channels against the registry.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from prognos.errors import ConfigError, ValidationFailed

PASSWORD_ENV = "PROGNOS_OPCUA_PASSWORD"
POLICIES = ("Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss")
MODES = ("Sign", "SignAndEncrypt")
_NODE_ID = re.compile(r"^(ns=\d+;)?[isgb]=.+$")
_PATH_ELEMENT = re.compile(r"^\d+:[^/]+$")


@dataclass(frozen=True)
class MappingItem:
    """One monitored node and the asset channel its values go to."""

    index: int
    asset: str
    channel: str
    node: str | None = None
    browse_path: str | None = None
    unit: str | None = None

    @property
    def address(self) -> str:
        return self.node or f"browse path {self.browse_path}"

    @property
    def label(self) -> str:
        """How errors name this entry: its position, its node and its target."""
        return f"items[{self.index}] ({self.address} -> {self.asset}/{self.channel})"


@dataclass(frozen=True)
class Security:
    policy: str
    mode: str
    certificate: Path
    private_key: Path
    server_certificate: Path | None = None
    application_uri: str = "urn:prognos:client"


@dataclass
class Mapping:
    items: list[MappingItem]
    endpoint: str | None = None
    security: Security | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    source: str = "mapping"

    @classmethod
    def from_file(cls, path: str | Path) -> Mapping:
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise ConfigError(
                f"mapping file {path} does not exist",
                hint="write one; `prognos opcua browse` lists the server's nodes",
            ) from None
        except yaml.YAMLError as e:
            raise ValidationFailed(f"mapping file {path} is not valid YAML: {e}") from None
        return cls.from_dict(doc, base=path.parent, source=str(path))

    @classmethod
    def from_dict(
        cls, doc: Any, base: Path | None = None, source: str = "mapping", env=os.environ
    ) -> Mapping:
        base = base or Path(".")
        if not isinstance(doc, dict):
            raise ValidationFailed(f"{source}: expected a mapping with 'items', got {doc!r:.60}")
        unknown = set(doc) - {"endpoint", "security", "user", "password", "items"}
        if unknown:
            raise ValidationFailed(f"{source}: unknown keys {sorted(unknown)}")
        raw_items = doc.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise ValidationFailed(
                f"{source}: 'items' must be a non-empty list of nodes to monitor"
            )
        items = [_item(i, raw, source) for i, raw in enumerate(raw_items)]
        seen: dict[tuple[str, str], MappingItem] = {}
        for it in items:
            prev = seen.setdefault((it.asset, it.channel), it)
            if prev is not it:
                raise ValidationFailed(
                    f"{source}: {it.label} feeds the same channel as {prev.label}",
                    hint="map each asset channel from one node only",
                )
        endpoint = doc.get("endpoint")
        if endpoint is not None and not str(endpoint).startswith("opc.tcp://"):
            raise ValidationFailed(
                f"{source}: endpoint must start with opc.tcp://, got {endpoint!r}"
            )
        password = doc.get("password") or env.get(PASSWORD_ENV)
        return cls(
            items=items,
            endpoint=endpoint,
            security=_security(doc.get("security"), base, source),
            user=doc.get("user"),
            password=password,
            source=source,
        )


def _item(i: int, raw: Any, source: str) -> MappingItem:
    where = f"{source}: items[{i}]"
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{where}: expected a mapping, got {raw!r:.60}")
    unknown = set(raw) - {"node", "browse_path", "asset", "channel", "unit"}
    if unknown:
        raise ValidationFailed(f"{where}: unknown keys {sorted(unknown)}")
    node, path = raw.get("node"), raw.get("browse_path")
    if (node is None) == (path is None):
        raise ValidationFailed(f"{where}: give exactly one of 'node' or 'browse_path'")
    if node is not None and not _is_node_id(str(node)):
        raise ValidationFailed(
            f"{where}: {node!r} is not a node id",
            hint="write it like ns=2;i=5 or ns=2;s=Pump1.Temp",
        )
    if path is not None and not all(
        _PATH_ELEMENT.match(p) for p in str(path).strip("/").split("/")
    ):
        raise ValidationFailed(
            f"{where}: browse path {path!r} is malformed",
            hint="write it like 0:Objects/2:Pump1/2:Temperature (namespace:name per step)",
        )
    for key in ("asset", "channel"):
        if not raw.get(key):
            raise ValidationFailed(f"{where}: '{key}' is missing")
    return MappingItem(
        index=i,
        asset=str(raw["asset"]),
        channel=str(raw["channel"]),
        node=str(node) if node is not None else None,
        browse_path=str(path).strip("/") if path is not None else None,
        unit=str(raw["unit"]) if raw.get("unit") is not None else None,
    )


def _is_node_id(text: str) -> bool:
    if not _NODE_ID.match(text):
        return False
    from asyncua import ua  # here, not at import: every platform reads this module

    try:
        ua.NodeId.from_string(text)
    except ua.UaError:
        return False
    return True


def _security(raw: Any, base: Path, source: str) -> Security | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{source}: 'security' must be a mapping")
    mode = raw.get("mode", "SignAndEncrypt")
    if mode in ("None", None):
        return None
    policy = raw.get("policy", "Basic256Sha256")
    if policy not in POLICIES:
        raise ValidationFailed(f"{source}: security.policy {policy!r} is not one of {POLICIES}")
    if mode not in MODES:
        raise ValidationFailed(f"{source}: security.mode {mode!r} is not one of None, {MODES}")
    paths = {}
    for key in ("certificate", "private_key", "server_certificate"):
        if raw.get(key) is None:
            if key != "server_certificate":
                raise ValidationFailed(f"{source}: security.{key} is missing")
            continue
        p = Path(raw[key])
        p = p if p.is_absolute() else base / p
        if not p.exists():
            raise ConfigError(f"{source}: security.{key} {p} does not exist")
        paths[key] = p
    return Security(
        policy=policy,
        mode=mode,
        certificate=paths["certificate"],
        private_key=paths["private_key"],
        server_certificate=paths.get("server_certificate"),
        application_uri=raw.get("application_uri", "urn:prognos:client"),
    )


_UNIT_ALIASES = {
    "degc": "degc",
    "°c": "degc",
    "cel": "degc",
    "celsius": "degc",
    "degf": "degf",
    "°f": "degf",
    "fah": "degf",
    "mm/s": "mm/s",
    "c16": "mm/s",
    "rpm": "rpm",
    "1/min": "rpm",
    "%": "%",
    "p1": "%",
    "a": "a",
    "amp": "a",
    "v": "v",
    "vlt": "v",
    "kw": "kw",
    "kwt": "kw",
    "hz": "hz",
    "hur": "h",
    "h": "h",
}


def same_unit(a: str, b: str) -> bool:
    """True when two unit spellings (symbol, UN/CEFACT code, or name) mean the same unit."""

    def norm(u: str) -> str:
        u = u.strip().lower().replace(" ", "")
        return _UNIT_ALIASES.get(u, u)

    return norm(a) == norm(b)
