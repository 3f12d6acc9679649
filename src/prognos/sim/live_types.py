"""The simulated fleet's asset types: elevators and drive chains, their channels and limits."""

from __future__ import annotations

from prognos.domain import AssetType, Channel, TimeUnit
from prognos.sim.costs import CHAIN_DRIVE, ELEVATOR, TURBOFAN  # one set of type ids
from prognos.sim.world import CHAIN_LIMIT

VIBRATION_LIMIT = 12.0  # mm/s RMS at the door roller bearing: replace
CMAPSS_CHANNELS = (
    *(f"setting_{i}" for i in range(1, 4)),
    *(f"sensor_{i}" for i in range(1, 22)),
)

ELEVATOR_TYPE = AssetType(
    id=ELEVATOR,
    name="Passenger elevator (car door drive)",
    time_unit=TimeUnit.hours,
    channels=[
        Channel(name="door_motor_current", unit="A", min=0.0, max=10.0),
        Channel(name="door_cycle_time", unit="s", min=1.0, max=15.0),
        Channel(
            name="vibration",
            unit="mm/s",
            min=0.0,
            max=40.0,
            description="door roller bearing, RMS",
        ),
        Channel(name="humidity", unit="%", min=0.0, max=100.0, description="car, relative"),
    ],
    failure_threshold={"vibration": VIBRATION_LIMIT},
)
CHAIN_TYPE = AssetType(
    id=CHAIN_DRIVE,
    name="Industrial drive chain (conveyor)",
    time_unit=TimeUnit.days,
    channels=[
        Channel(name="elongation", unit="%", min=-0.5, max=6.0, description="pitch elongation"),
        Channel(name="sprocket_temp", unit="degC", min=-20.0, max=150.0),
        Channel(
            name="load",
            unit="%",
            min=0.0,
            max=130.0,
            description="operating setting: of rated torque (on shift or idle)",
        ),
    ],
    failure_threshold={"elongation": CHAIN_LIMIT},
)
CHANNELS = {
    ELEVATOR: tuple(ELEVATOR_TYPE.channel_names),
    CHAIN_DRIVE: tuple(CHAIN_TYPE.channel_names),
    TURBOFAN: CMAPSS_CHANNELS,
}
ASSET_TYPES = {ELEVATOR: ELEVATOR_TYPE, CHAIN_DRIVE: CHAIN_TYPE}
