"""API keys: the manufacturer lists and revokes them. Creating one stays a CLI command."""

from __future__ import annotations

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.routing import router as make_router
from prognos.domain.keys import ApiKey

router = make_router(["keys"])


@router.get("/keys")
def list_keys(
    platform: PlatformDep, principal: PrincipalDep, customer: str | None = None
) -> list[ApiKey]:
    """Every key (or one customer's) by id and prefix, revoked ones with their time."""
    return platform.keys.list_keys(principal, customer)


@router.delete("/keys/{key_id}")
def revoke_key(key_id: str, platform: PlatformDep, principal: PrincipalDep) -> ApiKey:
    """Revoke a key: from the next request on it answers 401 like an unknown one."""
    return platform.keys.revoke(principal, key_id)
