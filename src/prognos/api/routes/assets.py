"""Customers, sites, asset types and assets."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.routing import Offset
from prognos.api.routing import router as make_router
from prognos.api.schemas import AssetDetail, AssetPage
from prognos.domain import Asset, AssetType, Customer, Site

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
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> AssetPage:
    assets, total = platform.registry.assets(
        principal,
        customer_id=customer,
        type_id=type,
        site_id=site,
        search=q,
        limit=limit,
        offset=offset,
    )
    return AssetPage(total=total, limit=limit, offset=offset, items=assets)


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
    return AssetDetail(**a.model_dump(), type=t, components=children)
