"""Plain typed objects shared by every layer. No I/O here."""

from prognos.domain.assets import Asset, AssetType, Channel, Customer, Lifecycle, Site, TimeUnit
from prognos.domain.forecast import FailureForecast, HealthScore
from prognos.domain.keys import Principal
from prognos.domain.telemetry import ReadingBatch, Rejection

__all__ = [
    "Asset",
    "AssetType",
    "Channel",
    "Customer",
    "FailureForecast",
    "HealthScore",
    "Lifecycle",
    "Principal",
    "ReadingBatch",
    "Rejection",
    "Site",
    "TimeUnit",
]

from prognos.domain.registry import Registry  # noqa: E402

__all__ += ["Registry"]

from prognos.domain.planning import (  # noqa: E402
    CostModel,
    Crew,
    Explanation,
    Finding,
    PartStock,
    Plan,
    PlanAsset,
    PlannedJob,
    SiteCalendar,
    Travel,
    Window,
    WindowKind,
    WorkOrder,
    WorkOrderStatus,
)

__all__ += [
    "CostModel",
    "Crew",
    "Explanation",
    "Finding",
    "PartStock",
    "Plan",
    "PlanAsset",
    "PlannedJob",
    "SiteCalendar",
    "Travel",
    "Window",
    "WindowKind",
    "WorkOrder",
    "WorkOrderStatus",
]
