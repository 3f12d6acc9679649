"""Walk an OPC UA server's address space so a user can write a mapping file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncua import Client, ua

from prognos.ingest.opcua_client import data_type_name, engineering_units, is_numeric

_HAS_PROPERTY = ua.NodeId(ua.ObjectIds.HasProperty)


@dataclass
class BrowsedNode:
    depth: int
    node_id: str
    browse_path: str
    name: str
    node_class: str
    data_type: str | None = None
    numeric: bool = False
    value: Any = None
    unit: str | None = None


async def browse(
    client: Client, *, max_depth: int = 6, include_server: bool = False, limit: int = 5000
) -> list[BrowsedNode]:
    """Objects and variables under Objects, depth first, with variables' type, value and unit."""
    out: list[BrowsedNode] = []
    root = client.nodes.objects

    async def walk(node, path: str, depth: int) -> None:
        if depth > max_depth or len(out) >= limit:
            return
        refs = await node.get_references(
            refs=ua.ObjectIds.HierarchicalReferences,
            direction=ua.BrowseDirection.Forward,
            nodeclassmask=ua.NodeClass.Object | ua.NodeClass.Variable,
        )
        refs = [r for r in refs if r.ReferenceTypeId != _HAS_PROPERTY]
        if not include_server:
            refs = [r for r in refs if not _is_server_object(r)]
        children = []
        for r in refs:
            nid = ua.NodeId(r.NodeId.Identifier, r.NodeId.NamespaceIndex)
            qn = r.BrowseName
            children.append(
                BrowsedNode(
                    depth=depth,
                    node_id=nid.to_string(),
                    browse_path=f"{path}/{qn.NamespaceIndex}:{qn.Name}",
                    name=qn.Name,
                    node_class=r.NodeClass.name,
                )
            )
        variables = [c for c in children if c.node_class == "Variable"]
        if variables:
            ids = [ua.NodeId.from_string(c.node_id) for c in variables]
            dtypes = await client.uaclient.read_attributes(ids, ua.AttributeIds.DataType)
            values = await client.uaclient.read_attributes(ids, ua.AttributeIds.Value)
            units = await engineering_units(client, ids)
            for c, dt, dv, unit in zip(variables, dtypes, values, units, strict=True):
                if dt.StatusCode.is_good():
                    c.data_type = await data_type_name(client, dt.Value.Value)
                    c.numeric = await is_numeric(client, dt.Value.Value)
                c.value = dv.Value.Value if dv.Value is not None else None
                c.unit = unit
        for c in children:
            if len(out) >= limit:
                return
            out.append(c)
            await walk(client.get_node(c.node_id), c.browse_path, depth + 1)

    await walk(root, "0:Objects", 0)
    return out


def _is_server_object(r: ua.ReferenceDescription) -> bool:
    return r.NodeId.NamespaceIndex == 0 and r.NodeId.Identifier == ua.ObjectIds.Server
