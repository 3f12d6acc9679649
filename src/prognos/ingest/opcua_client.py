"""OPC UA client plumbing: connecting with security and a login, and checking mapped nodes.

Errors come out as prognos errors that say what to fix: a refused login or certificate
(``AccessDenied``), a security mode the server does not offer (``ConfigError``), a server that
does not answer (``ServerUnreachable``, worth retrying), a bad mapping entry
(``ValidationFailed`` naming it).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from asyncua import Client, ua
from asyncua.common.ua_utils import get_base_data_type
from asyncua.crypto import security_policies

from prognos.errors import AccessDenied, ConfigError, PrognosError, ValidationFailed
from prognos.ingest.opcua_mapping import PASSWORD_ENV, Mapping, MappingItem, Security, same_unit

_NUMERIC = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 26, 27, 28, 50}
_LOGIN_REFUSED = {
    ua.StatusCodes.BadUserAccessDenied,
    ua.StatusCodes.BadIdentityTokenRejected,
    ua.StatusCodes.BadIdentityTokenInvalid,
}
_CERT_REFUSED = {
    ua.StatusCodes.BadSecurityChecksFailed,
    ua.StatusCodes.BadCertificateInvalid,
    ua.StatusCodes.BadCertificateUntrusted,
    ua.StatusCodes.BadCertificateUriInvalid,
    ua.StatusCodes.BadSecurityPolicyRejected,
}


class ServerUnreachable(PrognosError):
    """The OPC UA server did not answer (down, wrong address, network); worth retrying."""

    status_code = 503
    code = "opcua_unreachable"


@dataclass(frozen=True)
class NodeInfo:
    """What the server says about a mapped node: its id, data type and engineering unit."""

    item: MappingItem
    node_id: str
    data_type: str
    engineering_unit: str | None
    historizing: bool = False  # the server keeps the node's history and lets us read it


# -- connecting ----------------------------------------------------------------------------------
async def connect(
    endpoint: str,
    security: Security | None = None,
    user: str | None = None,
    password: str | None = None,
    *,
    timeout: float = 5.0,
    auto_reconnect: bool = False,
    reconnect_max_delay: float = 30.0,
    watchdog_interval: float = 1.0,
) -> Client:
    """A connected client, or a prognos error that says what to fix."""
    client = Client(
        endpoint,
        timeout=timeout,
        watchdog_intervall=watchdog_interval,
        reconnect_max_delay=reconnect_max_delay,
        reconnect_request_timeout=max(timeout, 10.0),
    )
    client.session_timeout = 600_000  # what most servers grant; asking for more only logs a warning
    if security is not None:
        client.application_uri = security.application_uri
        policy = getattr(security_policies, f"SecurityPolicy{security.policy}")
        await client.set_security(
            policy,
            str(security.certificate),
            str(security.private_key),
            server_certificate=str(security.server_certificate)
            if security.server_certificate
            else None,
            mode=getattr(ua.MessageSecurityMode, security.mode),
        )
    if user:
        client.set_user(user)
        if password is None:
            raise ConfigError(
                f"user {user!r} is set for {endpoint} but no password",
                hint=f"set {PASSWORD_ENV} or 'password' in the mapping file",
            )
        client.set_password(password)
    try:
        await asyncio.wait_for(client.connect(auto_reconnect=auto_reconnect), timeout * 2)
    except ua.UaStatusCodeError as e:
        raise _explain(e, endpoint, security, user) from None
    except ua.UaError as e:
        if "No matching endpoints" in str(e):
            mode = f"{security.policy}/{security.mode}" if security else "no security (None)"
            raise ConfigError(
                f"the OPC UA server at {endpoint} offers no endpoint with {mode}",
                hint="set 'security' in the mapping to a policy and mode the server offers",
            ) from None
        raise ServerUnreachable(f"OPC UA handshake with {endpoint} failed: {e}") from None
    except (OSError, TimeoutError) as e:
        raise ServerUnreachable(
            f"the OPC UA server at {endpoint} does not answer ({type(e).__name__}: {e})",
            hint="check the address and that the server runs",
        ) from None
    return client


def _explain(
    e: ua.UaStatusCodeError, endpoint: str, security: Security | None, user: str | None
) -> PrognosError:
    code = getattr(e, "code", None)
    name = type(e).__name__
    if code in _LOGIN_REFUSED:
        who = f"user {user!r}" if user else "an anonymous login"
        return AccessDenied(
            f"the OPC UA server at {endpoint} refused {who} ({name})",
            hint=f"check the user name and password ({PASSWORD_ENV})"
            if user
            else f"the server wants a user: set 'user' in the mapping and {PASSWORD_ENV}",
        )
    if code in _CERT_REFUSED:
        return AccessDenied(
            f"the OPC UA server at {endpoint} rejected the secure channel ({name})",
            hint="have the server trust the client certificate and check its application URI",
        )
    return ServerUnreachable(f"the OPC UA server at {endpoint} answered {name}: {e}")


async def disconnect(client: Client, timeout: float = 3.0) -> None:
    """Close the session if the server still answers; never hang on a dead one."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.disconnect(), timeout)


# -- checking the mapping against the server -----------------------------------------------------
async def resolve(client: Client, mapping: Mapping) -> list[NodeInfo]:
    """Find each mapped node and check it is a scalar numeric variable in the mapped unit.

    Raises ``ValidationFailed`` naming every bad entry (the first in the message).
    """
    items = mapping.items
    problems: list[str] = []
    node_ids: list[ua.NodeId | None] = [None] * len(items)
    by_path = [it for it in items if it.browse_path]
    if by_path:
        results = await client.translate_browsepaths(
            ua.NodeId(ua.ObjectIds.RootFolder),
            [_relative_path(it.browse_path) for it in by_path],
        )
        for it, r in zip(by_path, results, strict=True):
            if r.StatusCode.is_good() and r.Targets:
                node_ids[it.index] = _plain(r.Targets[0].TargetId)
            else:
                problems.append(f"{it.label}: no node at this browse path on the server")
    for it in items:
        if it.node:
            node_ids[it.index] = ua.NodeId.from_string(it.node)
    present = [(it, nid) for it, nid in zip(items, node_ids, strict=True) if nid is not None]
    ids = [nid for _, nid in present]
    classes = await client.uaclient.read_attributes(ids, ua.AttributeIds.NodeClass)
    dtypes = await client.uaclient.read_attributes(ids, ua.AttributeIds.DataType)
    ranks = await client.uaclient.read_attributes(ids, ua.AttributeIds.ValueRank)
    access = await client.uaclient.read_attributes(ids, ua.AttributeIds.UserAccessLevel)
    units = await engineering_units(client, ids)
    infos: list[NodeInfo] = []
    for (it, nid), nc, dt, rank, eu, al in zip(
        present, classes, dtypes, ranks, units, access, strict=True
    ):
        if not nc.StatusCode.is_good():
            problems.append(f"{it.label}: the server has no node {nid.to_string()}")
            continue
        if nc.Value.Value != ua.NodeClass.Variable:
            problems.append(f"{it.label}: {nid.to_string()} is not a variable")
            continue
        dt_id = dt.Value.Value
        dt_name = await data_type_name(client, dt_id)
        if not await is_numeric(client, dt_id):
            problems.append(f"{it.label}: data type {dt_name} is not numeric")
            continue
        if rank.Value.Value is not None and rank.Value.Value > 0:
            problems.append(f"{it.label}: the node holds an array, not one value")
            continue
        if eu is not None and it.unit is not None and not same_unit(eu, it.unit):
            problems.append(
                f"{it.label}: the node's EngineeringUnits are {eu!r}, the mapping says {it.unit!r}"
            )
            continue
        level = al.Value.Value if al.StatusCode.is_good() and al.Value is not None else 0
        history = bool((level or 0) >> ua.AccessLevel.HistoryRead & 1)
        infos.append(NodeInfo(it, nid.to_string(), dt_name, eu, history))
    if problems:
        raise ValidationFailed(
            f"{mapping.source}: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            hint="fix the mapping; `prognos opcua browse` lists the server's nodes",
            details=problems,
        )
    return infos


async def engineering_units(client: Client, ids: list[ua.NodeId]) -> list[str | None]:
    """Each node's EngineeringUnits display name (or UN/CEFACT code), None where it has none."""
    if not ids:
        return []
    params = []
    for nid in ids:
        bp = ua.BrowsePath()
        bp.StartingNode = nid
        bp.RelativePath = ua.RelativePath.from_string("/0:EngineeringUnits")
        params.append(bp)
    results = await client.uaclient.translate_browsepaths_to_nodeids(params)
    found = [
        (i, _plain(r.Targets[0].TargetId))
        for i, r in enumerate(results)
        if r.StatusCode.is_good() and r.Targets
    ]
    out: list[str | None] = [None] * len(ids)
    if not found:
        return out
    values = await client.uaclient.read_attributes([n for _, n in found], ua.AttributeIds.Value)
    for (i, _), dv in zip(found, values, strict=True):
        eu = dv.Value.Value if dv.Value is not None else None
        if isinstance(eu, ua.EUInformation):
            out[i] = eu.DisplayName.Text or _cefact(eu.UnitId) or None
    return out


def _relative_path(path: str) -> ua.RelativePath:
    """``0:Objects/2:Pump1/2:Temp.PV`` as hierarchical steps (names may hold '.', '#', '!')."""
    rp = ua.RelativePath()
    for step in path.split("/"):
        ns, name = step.split(":", 1)
        el = ua.RelativePathElement()
        el.ReferenceTypeId = ua.NodeId(ua.ObjectIds.HierarchicalReferences)
        el.IsInverse = False
        el.IncludeSubtypes = True
        el.TargetName = ua.QualifiedName(name, int(ns))
        rp.Elements.append(el)
    return rp


def _plain(target: ua.NodeId) -> ua.NodeId:
    """A browse target (an expanded node id) as a plain node id of this server."""
    return ua.NodeId(target.Identifier, target.NamespaceIndex)


def _cefact(unit_id: int) -> str | None:
    """Decode a UN/CEFACT common code packed into EUInformation.UnitId (OPC UA Part 8)."""
    if not unit_id or unit_id < 0:
        return None
    chars = []
    while unit_id:
        chars.append(chr(unit_id & 0xFF))
        unit_id >>= 8
    return "".join(reversed(chars)).strip() or None


async def is_numeric(client: Client, dt: ua.NodeId) -> bool:
    if dt.NamespaceIndex == 0 and isinstance(dt.Identifier, int) and dt.Identifier < 30:
        return dt.Identifier in _NUMERIC
    try:
        base = await get_base_data_type(client.get_node(dt))
    except Exception:  # a type the server cannot trace to a builtin one is not numeric for us
        return False
    return base.nodeid.Identifier in _NUMERIC


async def data_type_name(client: Client, dt: ua.NodeId) -> str:
    if dt.NamespaceIndex == 0 and isinstance(dt.Identifier, int):
        name = ua.ObjectIdNames.get(dt.Identifier)
        if name:
            return name
    try:
        return (await client.get_node(dt).read_browse_name()).Name
    except Exception:
        return dt.to_string()


async def subscribe(
    client: Client,
    nodes: list[NodeInfo],
    source: str,
    publishing_interval: float,
    queue_size: int,
) -> Any:
    """One subscription with a monitored item per node (client handle = its position in
    ``nodes``), triggering on timestamp too; a node the server refuses fails the mapping."""
    ms = publishing_interval * 1000.0
    params = ua.CreateSubscriptionParameters()
    params.RequestedPublishingInterval = ms
    # keep the subscription alive on the server through outages of up to ~10 minutes
    params.RequestedMaxKeepAliveCount = client.get_keepalive_count(ms)
    params.RequestedLifetimeCount = max(int(600_000 / ms), 3 * params.RequestedMaxKeepAliveCount)
    params.MaxNotificationsPerPublish = 0
    params.PublishingEnabled = True
    sub = await client.create_subscription(params, None, queue_maxsize=0)
    flt = ua.DataChangeFilter()
    flt.Trigger = ua.DataChangeTrigger.StatusValueTimestamp
    requests = []
    for handle, info in enumerate(nodes):
        rv = ua.ReadValueId()
        rv.NodeId = ua.NodeId.from_string(info.node_id)
        rv.AttributeId = ua.AttributeIds.Value
        mp = ua.MonitoringParameters()
        mp.ClientHandle = handle
        mp.SamplingInterval = 0.0
        mp.QueueSize = queue_size
        mp.DiscardOldest = True
        mp.Filter = flt
        req = ua.MonitoredItemCreateRequest()
        req.ItemToMonitor = rv
        req.MonitoringMode = ua.MonitoringMode.Reporting
        req.RequestedParameters = mp
        requests.append(req)
    results = await sub.create_monitored_items(requests)
    bad = [
        f"{info.item.label}: the server refused to monitor it ({r.name})"
        for info, r in zip(nodes, results, strict=True)
        if isinstance(r, ua.StatusCode)
    ]
    if bad:
        raise ValidationFailed(f"{source}: {bad[0]}", details=bad, hint="fix or remove the entry")
    return sub
