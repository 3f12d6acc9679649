"""The large plans' heuristic: re-plan one day at a time, exactly, while the other days stand.

For a day, every visit on it is taken back; each component that could be replaced that day
gains the cost of where it stands now (its other day, or no job) minus the cost of that day.
Which jobs a visit of each crew would do is a knapsack per site (:mod:`knapsack`), which crew
goes where a maximum-weight matching (``scipy.optimize.linear_sum_assignment``). Components the
day takes from other days leave those days; the next pass over them fills the gap. A day's new
plan is kept only if the whole plan got cheaper. Passes go forward and back until one gains
nothing or the time is up.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from prognos.planning import knapsack
from prognos.planning.slices import Slice


class DayPlanner:
    def __init__(self, sl: Slice):
        self.sl = sl
        self.assign = np.full(sl.n, -1)  # component -> local candidate
        self.crew = np.full(sl.n_groups, -1)  # site-day -> crew
        self.load = np.zeros(sl.n_groups)
        self.members = np.zeros(sl.n_groups, int)
        self.busy: dict[tuple[int, int], int] = {}  # (crew, day) -> site-day
        self.used = np.zeros(len(sl.row_cap), int)
        self.objective = float(sl.none_cost.sum())
        self.n_blocks = int(sl.block.max()) + 1 if sl.n else 1
        self.by_block = np.bincount(sl.block, sl.none_cost, minlength=self.n_blocks)
        self.g_block = np.zeros(sl.n_groups, int)
        self.g_block[sl.c_group] = sl.block[sl.c_asset]
        self.w_units = knapsack.units(sl.hours, up=True)
        self.cands_on = _split(sl.c_day, sl.horizon)
        self.opts_on = _split(sl.g_day[sl.o_group], sl.horizon)
        self.vcost: dict[tuple[int, int], float] = {}
        for g, j, c in zip(
            sl.o_group.tolist(), sl.o_crew.tolist(), sl.o_cost.tolist(), strict=True
        ):
            self.vcost[(g, j)] = c
        self.log: list[tuple] | None = None
        # the moves read single entries: Python lists are several times faster there than arrays
        self.fast = {
            "group": sl.c_group.tolist(), "block": sl.block.tolist(), "day": sl.g_day.tolist(),
            "hours": sl.hours.tolist(), "row": sl.c_row.tolist(), "cost": sl.c_cost.tolist(),
            "none": sl.none_cost.tolist(),
        }  # fmt: skip
        self.members, self.load = [0] * sl.n_groups, [0.0] * sl.n_groups
        self.by_block = self.by_block.tolist()
        self._commit()

    def _commit(self) -> None:
        """Committed jobs first, each with its crew (or the first crew that can do it)."""
        sl = self.sl
        for k in np.flatnonzero(sl.c_forced).tolist():
            i, g = int(sl.c_asset[k]), int(sl.c_group[k])
            js = [int(sl.c_crew[k])] if sl.c_crew[k] >= 0 else []
            js += [
                int(j)
                for j in sl.o_crew[sl.o_group == g]
                if (sl.skill_mask[j] >> sl.type_of[i]) & 1
            ]
            j = int(self.crew[g]) if self.crew[g] >= 0 else next(
                (j for j in js if (j, int(sl.g_day[g])) not in self.busy), -1)  # fmt: skip
            if j >= 0:
                self._add(i, k, j)

    # -- moves, undoable -------------------------------------------------------------------------
    def _add(self, i: int, k: int, j: int) -> None:
        f = self.fast
        g, b = f["group"][k], f["block"][i]
        if self.crew[g] < 0:
            self.crew[g] = j
            self.busy[(j, f["day"][g])] = g
            vc = self.vcost[(g, j)]
            self.objective += vc
            self.by_block[b] += vc
        self.assign[i] = k
        self.load[g] += f["hours"][i]
        self.members[g] += 1
        r = f["row"][k]
        if r >= 0:
            self.used[r] += 1
        d = f["cost"][k] - f["none"][i]
        self.objective += d
        self.by_block[b] += d
        if self.log is not None:
            self.log.append((b, "add", i))

    def _remove(self, i: int) -> None:
        f = self.fast
        k = int(self.assign[i])
        g, b = f["group"][k], f["block"][i]
        self.assign[i] = -1
        self.load[g] -= f["hours"][i]
        self.members[g] -= 1
        r = f["row"][k]
        if r >= 0:
            self.used[r] -= 1
        d = f["cost"][k] - f["none"][i]
        self.objective -= d
        self.by_block[b] -= d
        j = int(self.crew[g])
        if self.members[g] == 0:
            self.crew[g] = -1
            del self.busy[(j, f["day"][g])]
            vc = self.vcost[(g, j)]
            self.objective -= vc
            self.by_block[b] -= vc
        if self.log is not None:
            self.log.append((b, "remove", i, k, j))

    def _undo(self, log: list[tuple], blocks: set[int]) -> None:
        """Take back the moves of ``blocks`` (blocks share no crew, so each stands alone)."""
        self.log = None
        for entry in reversed(log):
            if entry[0] not in blocks:
                continue
            if entry[1] == "add":
                self._remove(entry[2])
            else:
                _, _, i, k, j = entry
                self._add(i, k, j)

    # -- one day ---------------------------------------------------------------------------------
    def day(self, d: int) -> float:
        """Re-plan day ``d``; returns the saving (0 when the day's plan stood)."""
        sl = self.sl
        ks, opts = self.cands_on[d], self.opts_on[d]
        if not len(ks) or not len(opts):
            return 0.0
        before, self.log = np.array(self.by_block), []
        a = np.maximum(self.assign, 0)
        on_d = np.flatnonzero((self.assign >= 0) & (sl.c_day[a] == d) & ~sl.c_forced[a])
        for i in on_d.tolist():
            self._remove(i)
        i_k = sl.c_asset[ks]
        cur = self.assign[i_k]
        base = np.where(cur >= 0, sl.c_cost[np.maximum(cur, 0)], sl.none_cost[i_k])
        gain = base - sl.c_cost[ks]
        row = sl.c_row[ks]
        own = (cur >= 0) & (sl.c_row[np.maximum(cur, 0)] == row)
        room = (
            (row < 0)
            | own
            | (
                self.used[np.maximum(row, 0)] < sl.row_cap[np.maximum(row, 0)]
                if len(sl.row_cap)
                else True
            )
        )
        fixed = (cur >= 0) & sl.c_forced[np.maximum(cur, 0)]
        live = (gain > 1e-9) & room & ~fixed & (self.crew[sl.c_group[ks]] < 0)  # not a kept visit
        ks, gain = ks[live], gain[live]
        if not len(ks):
            return self._finish(before)
        groups, g_loc = np.unique(sl.c_group[ks], return_inverse=True)
        o_g = np.searchsorted(groups, sl.o_group[opts])
        o_ok = (o_g < len(groups)) & (groups[np.minimum(o_g, len(groups) - 1)] == sl.o_group[opts])
        opts, o_g = opts[o_ok], o_g[o_ok]
        if not len(opts):
            return self._finish(before)
        cap_u = knapsack.units(sl.o_cap[opts], up=False)
        types = sl.type_of[sl.c_asset[ks]]
        value = np.full(len(opts), -np.inf)
        packs: dict[int, tuple[knapsack.Knapsacks, np.ndarray]] = {}
        for mask in np.unique(sl.skill_mask[sl.o_crew[opts]]).tolist():
            fits = (mask >> types) & 1 == 1
            ksub = np.flatnonzero(fits)
            kn = knapsack.solve(g_loc[ksub], self.w_units[sl.c_asset[ks[ksub]]], gain[ksub],
                                len(groups), int(cap_u.max()))  # fmt: skip
            packs[mask] = (kn, ksub)
            at = sl.skill_mask[sl.o_crew[opts]] == mask
            value[at] = kn.value_at(o_g[at], cap_u[at])
        value -= sl.o_cost[opts]
        free = np.array([(j, d) not in self.busy for j in sl.o_crew[opts].tolist()], bool)
        value = np.where(free, value, -np.inf)
        crews, c_loc = np.unique(sl.o_crew[opts], return_inverse=True)
        w = np.zeros((len(crews), len(groups)))
        at = np.full(w.shape, -1)
        pos = value > 1e-9
        w[c_loc[pos], o_g[pos]] = value[pos]
        at[c_loc[pos], o_g[pos]] = np.flatnonzero(pos)
        rows, cols = linear_sum_assignment(w, maximize=True)
        take = w[rows, cols] > 1e-9
        chosen = at[rows[take], cols[take]]
        chosen = chosen[np.argsort(-value[chosen])]
        crew_of = sl.o_crew[opts[chosen]]
        masks = sl.skill_mask[crew_of]
        for mask, (kn, ksub) in packs.items():
            mine = np.flatnonzero(masks == mask)
            picked = kn.pick(o_g[chosen[mine]], cap_u[chosen[mine]])
            for n, items in zip(mine.tolist(), picked, strict=True):
                j = int(crew_of[n])
                for q in ks[ksub[items]].tolist():
                    self._place(int(sl.c_asset[q]), q, j)
        return self._finish(before)

    def _place(self, i: int, k: int, j: int) -> None:
        sl = self.sl
        g = int(sl.c_group[k])
        if self.crew[g] >= 0 and self.crew[g] != j:
            return
        if self.crew[g] < 0 and (j, int(sl.g_day[g])) in self.busy:
            return
        if self.assign[i] >= 0:
            if sl.c_day[self.assign[i]] == sl.c_day[k]:
                return
            self._remove(i)
        r = sl.c_row[k]
        if r >= 0 and self.used[r] >= sl.row_cap[r]:
            return
        self._add(i, k, j)

    def _finish(self, before: np.ndarray) -> float:
        log, self.log = self.log, None
        worse = {int(b) for b in np.flatnonzero(np.array(self.by_block) > before - 1e-6)}
        if log and worse:
            self._undo(log, worse)
        return float((before - np.array(self.by_block)).sum())

    def run(
        self,
        deadline: float,
        max_passes: int = 12,
        backward_first: bool = False,
        min_passes: int = 1,
    ) -> None:
        """Passes over the days, alternately forward and back; the first ``min_passes`` always
        end (a plan half made from nothing would leave its last days empty; a seed made at
        priced costs needs two passes at true costs before it is a good plan)."""
        days = np.flatnonzero([len(x) for x in self.cands_on]).tolist()
        for n in range(max_passes):
            gained = 0.0
            for d in days if (n + backward_first) % 2 == 0 else days[::-1]:
                gained += self.day(d)
                if n >= min_passes and time.perf_counter() > deadline:
                    return
            if n + 1 >= min_passes and time.perf_counter() > deadline:
                return
            if gained <= 1e-7 * max(abs(self.objective), 1.0) and n > 0:
                return

    def seed(self, assign: np.ndarray, crew: np.ndarray) -> None:
        """Start from a plan (e.g. the regions' plans joined)."""
        for i in np.flatnonzero(assign >= 0).tolist():
            k = int(assign[i])
            self._add(i, k, int(crew[self.sl.c_group[k]]))


def _split(day_of: np.ndarray, horizon: int) -> list[np.ndarray]:
    order = np.argsort(day_of, kind="stable")
    bounds = np.searchsorted(day_of[order], np.arange(horizon + 1))
    return [order[bounds[d] : bounds[d + 1]] for d in range(horizon)]


def plan_slice(sl: Slice, time_limit_s: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Plan one slice from nothing: (candidate per component, crew per site-day, objective).

    A plain function of plain data, so that a Dask worker can run it.
    """
    dp = DayPlanner(sl)
    dp.run(time.perf_counter() + time_limit_s)
    return dp.assign, dp.crew, dp.objective
