"""Pure optimisation: forecasts, calendars, crews, parts and costs in; a plan of work orders out.

    from prognos.planning import plan, replan, from_ics, day_profile

    cal = from_ics(ics_text, "S0001", until=now + timedelta(days=120))
    p = plan(forecasts, assets, {"S0001": cal}, crews, stock, costs, committed_orders,
             now=now, horizon_days=56, time_limit_s=10)
    p.jobs[0].explanation.why_not_later

``plan`` raises :class:`prognos.errors.Infeasible` naming the broken constraint when committed
orders cannot be kept; ``replan`` plans again and moves the open work orders through legal
lifecycle steps only.
"""

from prognos.planning.calendar import DayProfile, day_profile, from_ics
from prognos.planning.optimizer import plan
from prognos.planning.replan import ReplanResult, reconcile, replan

__all__ = ["DayProfile", "ReplanResult", "day_profile", "from_ics", "plan", "reconcile", "replan"]
