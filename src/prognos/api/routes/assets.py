"""Customers, sites, asset types and assets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.domain import Asset, AssetType, Customer, Site

router = APIRouter(tags=["registry"])


@router.get("/customers")
def list_customers(platform: PlatformDep, principal: PrincipalDep) -> list[Customer]:
    return platform.list_customers(principal)


@router.post("/customers", status_code=201)
def add_customer(c: Customer, platform: PlatformDep, principal: PrincipalDep) -> Customer:
    return platform.add_customer(c, principal)


@router.get("/sites")
def list_sites(platform: PlatformDep, principal: PrincipalDep) -> list[Site]:
    return platform.list_sites(principal)


@router.post("/sites", status_code=201)
def add_site(s: Site, platform: PlatformDep, principal: PrincipalDep) -> Site:
    return platform.add_site(s, principal)


@router.get("/asset-types")
def list_asset_types(platform: PlatformDep, principal: PrincipalDep) -> list[AssetType]:
    return platform.store.list_asset_types()


@router.post("/asset-types", status_code=201)
def add_asset_type(t: AssetType, platform: PlatformDep, principal: PrincipalDep) -> AssetType:
    return platform.add_asset_type(t, principal)


@router.get("/assets")
def list_assets(
    platform: PlatformDep,
    principal: PrincipalDep,
    customer: str | None = None,
    site: str | None = None,
    type: str | None = None,
    q: Annotated[str | None, Query(description="search in id, serial and model")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    assets, total = platform.list_assets(
        principal,
        customer_id=customer,
        type_id=type,
        site_id=site,
        search=q,
        limit=limit,
        offset=offset,
    )
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [a.model_dump(mode="json") for a in assets],
    }


@router.post("/assets", status_code=201)
def add_assets(
    assets: Asset | list[Asset], platform: PlatformDep, principal: PrincipalDep
) -> list[Asset]:
    return platform.add_assets(assets if isinstance(assets, list) else [assets], principal)


@router.get("/assets/{asset_id}")
def get_asset(asset_id: str, platform: PlatformDep, principal: PrincipalDep) -> dict:
    a = platform.get_asset(principal, asset_id)
    t = platform.asset_type(a.type_id)
    children = [
        c.id for c in platform.store.list_assets(customer_id=a.customer_id) if c.parent_id == a.id
    ]
    return {**a.model_dump(mode="json"), "type": t.model_dump(mode="json"), "components": children}
