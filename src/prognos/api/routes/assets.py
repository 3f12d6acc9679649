"""Customers, sites, asset types and assets."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.routing import Offset
from prognos.api.routing import router as make_router
from prognos.api.schemas import AssetDetail, AssetPage, AssetState, LifecycleChange
from prognos.domain import Asset, AssetType, Customer, Lifecycle, Site

router = make_router(["registry"])


@router.get("/customers")
def list_customers(platform: PlatformDep, principal: PrincipalDep) -> list[Customer]:
    return platform.registry.customers(principal)


@router.post("/customers", status_code=201)
def add_customer(c: Customer, platform: PlatformDep, principal: PrincipalDep) -> Customer:
    return platform.registry.add_customer(principal, c)


@router.get("/sites")
def list_sites(platform: PlatformDep, principal: PrincipalDep) -> list[Site]:
    return platform.registry.sites(principal)


@router.post("/sites", status_code=201)
def add_site(s: Site, platform: PlatformDep, principal: PrincipalDep) -> Site:
    return platform.registry.add_site(principal, s)


@router.get("/asset-types")
def list_asset_types(platform: PlatformDep, principal: PrincipalDep) -> list[AssetType]:
    return platform.registry.asset_types(principal)


@router.post("/asset-types", status_code=201)
def add_asset_type(t: AssetType, platform: PlatformDep, principal: PrincipalDep) -> AssetType:
    return platform.registry.add_asset_type(principal, t)


@router.get("/assets")
def list_assets(
    platform: PlatformDep,
    principal: PrincipalDep,
    customer: str | None = None,
    site: str | None = None,
    type: str | None = None,
    q: Annotated[str | None, Query(description="search in id, serial and model")] = None,
    state: Annotated[
        Lifecycle | None,
        Query(description="in_service, offline or retired (default: every state)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> AssetPage:
    kw = dict(customer_id=customer, type_id=type, site_id=site, search=q)
    if state is None:
        assets, total = platform.registry.assets(principal, **kw, limit=limit, offset=offset)
        states = platform.lifecycle.states(principal, assets)
    else:
        every, states = platform.lifecycle.with_state(principal, state.value, **kw)
        total, assets = len(every), every[offset : offset + limit]
    return AssetPage(
        total=total, limit=limit, offset=offset, items=[_with_state(a, states) for a in assets]
    )


def _with_state(a: Asset, states) -> AssetState:
    s = states[a.id]
    return AssetState(
        **a.model_dump(), state=s.state, last_seen=s.last_seen, offline_after_s=s.offline_after_s
    )


@router.post("/assets", status_code=201)
def add_assets(
    assets: Asset | list[Asset], platform: PlatformDep, principal: PrincipalDep
) -> list[Asset]:
    return platform.registry.add_assets(principal, assets if isinstance(assets, list) else [assets])


@router.get("/assets/{asset_id}")
def get_asset(asset_id: str, platform: PlatformDep, principal: PrincipalDep) -> AssetDetail:
    a = platform.registry.asset(principal, asset_id)
    t = platform.registry.asset_type(principal, a.type_id)
    children = [c.id for c in platform.registry.components(principal, asset_id)]
    s = platform.lifecycle.state(principal, asset_id)
    return AssetDetail(
        **a.model_dump(),
        state=s.state,
        last_seen=s.last_seen,
        offline_after_s=s.offline_after_s,
        type=t,
        components=children,
    )


@router.put("/assets/{asset_id}/lifecycle")
def set_lifecycle(
    asset_id: str, change: LifecycleChange, platform: PlatformDep, principal: PrincipalDep
) -> AssetState:
    """Retire an asset (its history stays and trains models; it leaves live KPIs, alarms and
    plans) or put it back into service."""
    if change.state == "retired":
        a = platform.lifecycle.retire(principal, asset_id, change.at)
    else:
        a = platform.lifecycle.reinstate(principal, asset_id)
    return _with_state(a, platform.lifecycle.states(principal, [a]))
