"""All of prognos' settings in one typed table, read from ``PROGNOS_*`` environment variables.

Lower layers never read the environment: the service layer receives a ``Settings`` and passes
down what each part needs. Every field is documented in ``docs/configuration.md`` (a test checks).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """prognos configuration; each field maps to ``PROGNOS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PROGNOS_", extra="ignore")

    db: str = Field(
        "./prognos.duckdb",
        description="Store location: a DuckDB file path (embedded default) or a postgresql:// URL.",
    )
    host: str = Field("127.0.0.1", description="Address `prognos serve` binds to.")
    port: int = Field(8000, description="Port `prognos serve` listens on.")
    api_url: str | None = Field(
        None,
        description="URL of a running prognos server for CLI commands that must go through it "
        "(defaults to http://HOST:PORT).",
    )
    api_key: str | None = Field(None, description="API key the CLI sends to a running server.")
    mqtt_broker: str | None = Field(
        None,
        description="mqtt://HOST:PORT of a broker; when set, `prognos serve` runs an MQTT ingest "
        "worker itself.",
    )
    mqtt_username: str | None = Field(None, description="MQTT user name, if the broker needs one.")
    mqtt_password: str | None = Field(None, description="MQTT password, if the broker needs one.")
    mqtt_ca_file: Path | None = Field(
        None,
        description="CA certificate (PEM) that signed an mqtts:// broker's certificate, for a "
        "private CA (default: the system's CAs).",
    )
    mqtt_cert_file: Path | None = Field(
        None,
        description="Client certificate (PEM) for an mqtts:// broker that asks for one; "
        "PROGNOS_MQTT_KEY_FILE holds its key unless the file has both.",
    )
    mqtt_key_file: Path | None = Field(
        None, description="Private key (PEM) of PROGNOS_MQTT_CERT_FILE."
    )
    mqtt_topic: str = Field(
        "prognos/+/+/telemetry",
        description="Topic filter the MQTT ingest worker subscribes to.",
    )
    mqtt_group: str = Field(
        "prognos-ingest",
        description="Shared-subscription group; workers in one group split the messages.",
    )
    mqtt_client_id: str | None = Field(
        None,
        description="MQTT client id of this process's ingest worker (default: prognos-GROUP-HOST-PID, "
        "distinct for every worker).",
    )
    mqtt_takeover_after: float = Field(
        15.0,
        ge=0,
        description="Seconds an MQTT worker's heartbeat may be silent before a surviving worker of "
        "its group takes over its broker session and stores what was queued for it (0: never).",
    )
    mqtt_drops_topic: str = Field(
        "$SYS/broker/publish/messages/dropped",
        description="Broker topic counting messages the broker dropped (Mosquitto's $SYS); the "
        "worker reports every increase as lost readings (empty: do not watch).",
    )
    heartbeat_interval: float = Field(
        2.0,
        gt=0,
        description="Seconds between the heartbeats each process's workers write to the store "
        "(status of every worker, wherever it runs; takeover of a silent MQTT worker).",
    )
    retention_days: int = Field(
        0,
        ge=0,
        description="Days raw readings are kept (0: for ever); older ones are dropped (whole "
        "months on PostgreSQL), their hourly rollups stay.",
    )
    retention_days_by_type: dict[str, int] = Field(
        default_factory=dict,
        description='Raw-reading retention per asset type as JSON, e.g. {"pump": 90} '
        "(types not named keep PROGNOS_RETENTION_DAYS).",
    )
    rollup_retention_days: int = Field(
        0, ge=0, description="Days hourly rollups are kept (0: for ever)."
    )
    upkeep_interval: float = Field(
        300.0,
        ge=0,
        description="Seconds between rounds of telemetry upkeep in `prognos serve`: hourly "
        "rollups, retention, PostgreSQL partitions ahead (0: off). One server of several does it.",
    )
    opcua_mapping: Path | None = Field(
        None,
        description="Mapping file (YAML) of an OPC UA server's nodes to asset channels; when set, "
        "`prognos serve` runs an OPC UA ingest worker itself.",
    )
    refresh_interval: float = Field(
        1.0,
        description="Seconds between forecast refreshes for assets that received readings "
        "(0 turns the in-server refresh off).",
    )
    offline_after_intervals: float = Field(
        6.0,
        ge=1,
        description="An in-service asset silent for this many of its type's expected sampling "
        "intervals (declared `sample_interval_s`, else learned from readings) is offline.",
    )
    plan_interval: float = Field(
        10.0,
        ge=0,
        description="Seconds between the planner's checks in `prognos serve` for a reason to "
        "re-plan (forecasts moved, a work order completed or was cancelled, calendars, crews, "
        "parts, costs or the installed base changed, the plan is PROGNOS_PLAN_EVERY_HOURS old); "
        "0 turns continuous planning off. One server of several plans.",
    )
    plan_horizon_days: int = Field(
        56, ge=1, le=365, description="Days ahead the continuous planner plans (rolling)."
    )
    plan_time_limit: float = Field(
        10.0, gt=0, description="Seconds the continuous planner's solver may take per plan."
    )
    plan_trigger_probability: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="A forecast moved materially when an asset's probability of failing within "
        "7, 14 or 28 operating days or the horizon changed by at least this: the plan is made "
        "again.",
    )
    plan_every_hours: float = Field(
        24.0,
        gt=0,
        description="The plan is made again at least this often, in hours of data time, so the "
        "horizon rolls on.",
    )
    health_baseline_rows: int = Field(
        50,
        ge=5,
        description="Readings at the start of each life (installation or part replacement) that "
        "make the asset's own healthy baseline (docs/health.md).",
    )
    health_baseline_span_hours: float = Field(
        24.0,
        ge=0,
        description="Hours at the start of each life that the asset's own healthy baseline "
        "spans at least (with at least its baseline rows), so a daily cycle is inside it; "
        "until the life is that old the partial baseline's spreads are widened by the type's "
        "(docs/health.md). 0: the rows alone.",
    )
    health_min_baseline_rows: int = Field(
        10,
        ge=2,
        description="Fewest settled readings for an asset's own baseline (per regime); until a "
        "new life has them, the type's baseline of a new part stands in.",
    )
    health_settle_rows: int = Field(
        2,
        ge=0,
        description="Readings left out of health after each change of operating regime (a "
        "shift start, a new flight condition).",
    )
    health_z_threshold: float = Field(
        4.0,
        gt=0,
        description="A channel whose recent mean z-score against its baseline reaches this is "
        "an anomaly.",
    )
    health_detector: str = Field(
        "auto",
        pattern="^(auto|robust-z|pca-reconstruction)$",
        description="Anomaly model of health: `robust-z` (Mahalanobis distance of robust "
        "z-scores), `pca-reconstruction`, or `auto` (chosen by validation on failed lives).",
    )
    health_horizon_days: float = Field(
        14.0,
        gt=0,
        description="Horizon of the rule that keeps health consistent with the failure "
        "forecast: P(failure within it) decides the band health may take.",
    )
    health_p_negligible: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="At or below this probability of failure within the horizon, health is "
        "never critical.",
    )
    health_p_imminent: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="At or above this probability of failure within the horizon, health is "
        "critical.",
    )

    def health_params(self) -> dict:
        """The health model's settings (``health_fit.fit_health``'s; ``rule``: the fields of
        ``health_rule.RuleParams``)."""
        params: dict = {
            "baseline_rows": self.health_baseline_rows,
            "baseline_span_hours": self.health_baseline_span_hours,
            "min_baseline_rows": self.health_min_baseline_rows,
            "settle_rows": self.health_settle_rows,
            "z_threshold": self.health_z_threshold,
            "rule": {
                "horizon_days": self.health_horizon_days,
                "p_negligible": self.health_p_negligible,
                "p_imminent": self.health_p_imminent,
            },
        }
        if self.health_detector != "auto":
            params.update(detector=self.health_detector, choose=False)
        return params

    compact_hour: int = Field(
        3,
        ge=-1,
        le=23,
        description="Hour of the day (server local time) at which `prognos serve` compacts an "
        "embedded DuckDB store's telemetry when a million readings came in since it last did "
        "(-1: never; PostgreSQL: schedule `prognos store compact` yourself).",
    )
    alarm_sweep_interval: float = Field(
        60.0,
        description="Seconds between rounds of the alarm worker in `prognos serve`: no-data "
        "rules and clearing alarms after their normal period (0 turns it off).",
    )
    notify_interval: float = Field(
        2.0, description="Seconds between rounds of the worker that delivers alarm notifications."
    )
    notify_max_attempts: int = Field(
        8, ge=1, description="Deliveries of one notification tried before it is a dead letter."
    )
    notify_retry_s: float = Field(
        10.0,
        gt=0,
        description="First wait before a failed notification is tried again; it doubles (with "
        "jitter) up to an hour.",
    )
    webhook_timeout: float = Field(
        5.0, gt=0, description="Seconds a webhook receiver or SMTP server may take to answer."
    )
    smtp_host: str | None = Field(
        None, description="SMTP server for alarm e-mail (unset: e-mail targets cannot be sent)."
    )
    smtp_port: int = Field(25, description="Port of PROGNOS_SMTP_HOST.")
    smtp_username: str | None = Field(None, description="SMTP login, if the server needs one.")
    smtp_password: str | None = Field(None, description="SMTP password, if the server needs one.")
    smtp_from: str = Field("prognos@localhost", description="Sender address of alarm e-mail.")
    smtp_starttls: bool = Field(
        False, description="Upgrade the SMTP connection with STARTTLS before logging in."
    )
    simulate: bool = Field(
        False,
        description="Run the fleet simulator inside `prognos serve` (the demo does): over MQTT when "
        "PROGNOS_MQTT_BROKER is set, else straight into the store.",
    )
    simulate_speed: float = Field(
        3600.0,
        description="Simulated seconds per wall-clock second while the simulator catches up.",
    )
    max_payload_bytes: int = Field(
        16 * 1024 * 1024, description="Largest telemetry payload accepted over HTTP or MQTT."
    )
    max_future_seconds: float = Field(
        300.0, description="How far ahead of the server clock a reading's timestamp may lie."
    )
    max_request_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1,
        description="Largest request body the server reads (any route); a body that declares "
        "or streams more is refused with 413 at the limit, never read whole.",
    )
    quarantine_max_rows: int = Field(
        100_000,
        ge=1,
        description="Rejected records kept per customer; past it the oldest of that customer's "
        "go first (one customer's flood never crowds out another's).",
    )
    quarantine_retention_days: float = Field(
        30.0,
        gt=0,
        description="Days a rejected record is kept before it is dropped.",
    )
    session_secret: str | None = Field(
        None,
        description="Secret that signs the control panel's session cookies; when unset, one is "
        "generated and kept in the store (every server process on it then shares it).",
    )
    session_hours: float = Field(
        12.0,
        gt=0,
        description="Hours a control panel login lasts before it asks for the key again.",
    )
    auth_failure_limit: int = Field(
        20,
        ge=1,
        description="Failed authentications one client address may make per "
        "PROGNOS_AUTH_FAILURE_WINDOW before it is answered 429 with Retry-After.",
    )
    auth_failure_window: float = Field(
        60.0, gt=0, description="Seconds over which PROGNOS_AUTH_FAILURE_LIMIT is counted."
    )
    artifacts_dir: Path = Field(
        Path("./artifacts"),
        description="Folder where a copy of each trained model is written for inspection; the "
        "database keeps the one that is loaded, so any host can use it.",
    )
    data_dir: Path | None = Field(
        None,
        description="Folder with C-MAPSS-format files to use instead of the copies shipped "
        "in the package.",
    )
    min_lives: int = Field(
        5,
        ge=2,
        description="Labelled run-to-failure lives an asset type needs before `prognos train` "
        "fits a sensor RUL model (with fewer, `prognos reliability fit` forecasts from events).",
    )
    failure_classifier: bool = Field(
        True,
        description="`prognos train` also fits a P(failure within PROGNOS_FAILURE_HORIZON) "
        "classifier where a type has labelled failures and readings, kept when it beats the "
        "health score and the age by out-of-fold AUC (docs/own-data.md).",
    )
    failure_horizon: float = Field(
        30.0,
        gt=0,
        description="H of the failure classifier's label, a failure within H, in the asset "
        "type's time unit.",
    )
    failure_folds: int = Field(
        5,
        ge=2,
        description="Folds over assets (over lives for a type of one asset) that validate the "
        "failure classifier.",
    )
    rul_params: dict[str, float | int] = Field(
        default_factory=dict,
        description='Settings of the sensor RUL estimator as JSON, e.g. {"n_estimators": 300, '
        '"n_folds": 5, "num_leaves": 15} (default: those).',
    )
    log_level: str = Field("INFO", description="Logging level for the server and workers.")

    @property
    def is_postgres(self) -> bool:
        return self.db.startswith(("postgresql://", "postgres://"))

    @property
    def server_url(self) -> str:
        return self.api_url or f"http://{self.host}:{self.port}"
