"""The composition root: ``open_platform(settings)`` builds every use case over one store.

Each use case is a small object holding the store ports it needs, one module per concept;
their methods take the calling ``Principal`` first and show it only what its customer owns.
Nothing above ``service/`` touches the store: the API, the panel, the CLI and the benchmarks
call the use cases (``tests/core/test_architecture.py`` pins it).

    platform = open_platform(Settings())
    platform.registry.add_customer(MANUFACTURER, Customer(id="acme", name="ACME"))
    platform.telemetry.ingest_payload(principal, body, "application/json")
    platform.forecasts.latest(principal, "pump-7")
"""

from __future__ import annotations

from prognos.config import Settings
from prognos.service.alarms import AlarmService
from prognos.service.backtest import BacktestService
from prognos.service.calendars import CalendarService
from prognos.service.cluster import ClusterService
from prognos.service.event_files import EventFileService
from prognos.service.events import EventService
from prognos.service.files import FileService
from prognos.service.fleet import FleetService
from prognos.service.fleet_forecast import FleetForecastService
from prognos.service.forecasts import ForecastService
from prognos.service.keys import KeyService
from prognos.service.lifecycle import LifecycleService
from prognos.service.notifications import NotificationService
from prognos.service.planning import PlanningService
from prognos.service.registry import RegistryService
from prognos.service.registry_file import RegistryFileService
from prognos.service.reliability import ReliabilityService
from prognos.service.resources import ResourceService
from prognos.service.scoring import ScoringService
from prognos.service.state import StateService
from prognos.service.telemetry import TelemetryService
from prognos.service.throttle import AuthThrottle
from prognos.service.training import TrainingService
from prognos.service.workorders import WorkOrderService
from prognos.store import Store, open_store


class Platform:
    """The use cases over one store. Thread-safe: the store serialises what it must."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        # The whole store, for the workers and fixtures of this layer only (see module doc).
        self.store = store
        self.keys = KeyService(
            store, store, AuthThrottle(settings.auth_failure_limit, settings.auth_failure_window)
        )
        self.registry = RegistryService(store, store)
        self.lifecycle = LifecycleService(store, self.registry, settings.offline_after_intervals)
        self.telemetry = TelemetryService(settings, store, store, self.registry)
        self.files = FileService(self.telemetry, self.registry)
        self.calendars = CalendarService(store, self.registry)
        self.resources = ResourceService(store)
        self.registry_files = RegistryFileService(self.registry, self.resources)
        self.orders = WorkOrderService(store, self.registry)
        self.notifications = NotificationService(settings, store, store, self.registry)
        self.alarms = AlarmService(
            store, store, self.registry, self.calendars, self.notifications.enqueue
        )
        self.telemetry.on_readings(self.alarms.on_readings)
        self.orders.on_done(self.alarms.work_done)
        self.events = EventService(store, self.registry)
        self.events.on_renewal(self.orders.event_done)  # replacements clear alarms as orders do
        self.event_files = EventFileService(self.events, self.registry)
        self.forecasts = ForecastService(store, store, self.registry, self.alarms)
        self.training = TrainingService(
            settings,
            store,
            store,
            self.registry,
            self.events,
            self.forecasts,
            settings.health_params(),
        )
        self.scoring = ScoringService(store, self.registry, self.forecasts, db=settings.db)
        self.reliability = ReliabilityService(
            self.events, self.registry, store, self.training, self.forecasts
        )
        self.backtests = BacktestService(settings, store, store, self.registry, self.training)
        self.fleet_forecasts = FleetForecastService(
            store, self.registry, self.forecasts, self.scoring, self.reliability
        )
        self.planning = PlanningService(
            store,
            self.registry,
            self.calendars,
            self.resources,
            self.orders,
            self.lifecycle,
            store,
            store,
        )
        self.state = StateService(store)
        self.fleet = FleetService(store, self.registry, self.lifecycle)
        self.cluster = ClusterService(store, store, store, settings.heartbeat_interval)

    @property
    def store_kind(self) -> str:
        """The engine behind the platform: ``duckdb`` or ``postgresql``."""
        return self.store.kind

    def close(self) -> None:
        self.store.close()


def open_platform(settings: Settings | None = None) -> Platform:
    """Open the store the settings name (migrating it) and build the use cases over it."""
    settings = settings or Settings()
    return Platform(settings, open_store(settings.db))
