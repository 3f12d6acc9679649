"""View models for the control panel: what each page shows, computed where it is cheap.

The fleet page joins assets with their latest health, latest forecast, next planned job and open
alarms in one SQL statement that also returns the summary, so paging, sorting and filtering stay
in the database and 10,000 assets cost tens of milliseconds (``fleet``). One asset's page and
charts are ``asset``, work orders and alarms ``orders``, calendars ``calendar``. Work orders, calendars, crews and alarms
are the store's generic documents (kinds below); their bodies are the planning domain's models
dumped as JSON, so the planner and this module read and write the same shapes:

    kind        id            body                                   customer_id  asset_id  status
    workorder   order id      WorkOrder.model_dump(mode="json")      yes          yes       status
    calendar    site id       SiteCalendar.model_dump(mode="json")   yes          -         -
    crew        crew id       Crew.model_dump(mode="json")           -            -         -
    alarm       alarm id      see ``raise_alarm``                     yes          yes       open|silenced|acknowledged

Every query takes the calling ``Principal``: a customer sees only what it owns.
"""

from prognos.service.panel._common import (
    ALARM,
    CALENDAR,
    CREW,
    GOOD,
    PLANNED,
    WATCH,
    WORKORDER,
    band,
)
from prognos.service.panel.asset import (
    asset_view,
    forecast_chart,
    health_chart,
    latest_forecast_stamp,
)
from prognos.service.panel.calendar import calendar_view
from prognos.service.panel.fleet import (
    SORTS,
    FleetPage,
    FleetQuery,
    filter_options,
    fleet,
    fleet_stamp,
)
from prognos.service.panel.orders import (
    ACTIONS,
    acknowledge_alarm,
    alarm_counts,
    complete_order,
    get_order,
    list_alarms,
    list_orders,
    maintenance_reason,
    raise_alarm,
    save_order,
    transition_order,
)

__all__ = [
    "ACTIONS",
    "ALARM",
    "CALENDAR",
    "CREW",
    "GOOD",
    "PLANNED",
    "SORTS",
    "WATCH",
    "WORKORDER",
    "FleetPage",
    "FleetQuery",
    "acknowledge_alarm",
    "alarm_counts",
    "asset_view",
    "band",
    "calendar_view",
    "complete_order",
    "filter_options",
    "fleet",
    "fleet_stamp",
    "forecast_chart",
    "health_chart",
    "get_order",
    "latest_forecast_stamp",
    "list_alarms",
    "list_orders",
    "maintenance_reason",
    "raise_alarm",
    "save_order",
    "transition_order",
]
