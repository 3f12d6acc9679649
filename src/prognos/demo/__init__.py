"""The demo: a whole world of customers, sites, calendars and a fleet with months of history,
and the simulator that streams it on (``make demo``, ``prognos simulate``).

    world.py       the world's description: customers, sites, crews, depots, costs
    history.py     the world written into a platform, with its past
    turbofans.py   a C-MAPSS subset as an airline turbofan fleet (``prognos ingest cmapss``)
    simulator.py   the live fleet as a worker: ticks of readings into the platform or a broker
    transports.py  where ticks go (in process, MQTT)
    setup.py       what ``make demo`` does before serving: world, training, forecasts, plan, keys

It speaks to the platform only through its use cases, like any user would.
"""
