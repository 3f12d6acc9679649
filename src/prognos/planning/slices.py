"""A part of the problem as plain arrays: what a worker process needs to plan or bound it.

A :class:`Slice` holds some components with all their candidates, the site-days they can be
done on and the visit options of some crews there. It pickles small (no domain objects), so a
region's slice can be planned on a Dask worker. Indices of crews stay global, those of
components, candidates, site-days and part rows are local, with maps back to the problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prognos.planning.problem import Problem


@dataclass
class Slice:
    horizon: int
    n_crews: int
    skill_mask: np.ndarray  # crew -> bits of the asset types it works on
    comp: np.ndarray  # local component -> problem component
    hours: np.ndarray
    none_cost: np.ndarray
    type_of: np.ndarray
    cand: np.ndarray  # local candidate -> problem candidate
    c_asset: np.ndarray  # local component
    c_day: np.ndarray
    c_cost: np.ndarray
    c_group: np.ndarray  # local site-day
    c_row: np.ndarray  # local part row or -1
    c_forced: np.ndarray
    c_crew: np.ndarray  # forced crew or -1
    g_day: np.ndarray  # site-day -> day
    group: np.ndarray  # local site-day -> problem site-day
    o_group: np.ndarray  # visit option -> local site-day
    o_crew: np.ndarray
    o_cap: np.ndarray
    o_cost: np.ndarray
    row_cap: np.ndarray  # parts on hand per local part row
    block: np.ndarray  # local component -> independent block (a region): solved side by side

    @property
    def n(self) -> int:
        return len(self.comp)

    @property
    def n_groups(self) -> int:
        return len(self.group)


@dataclass
class Index:
    """The problem's candidates and visit options mapped to site-days and part rows, once."""

    c_group: np.ndarray
    c_row: np.ndarray
    o_group: np.ndarray
    g_day: np.ndarray
    g_site: np.ndarray
    row_cap: np.ndarray


def index(pr: Problem) -> Index:
    h = max(pr.horizon, 1)
    keys = np.array([s * h + d for s, d in pr.site_days], np.int64)
    c_group = np.searchsorted(keys, pr.site_of[pr.c_asset] * h + pr.c_day)
    o_group = np.searchsorted(keys, pr.v_site * h + pr.v_day)
    c_row = np.full(pr.n_cands, -1)
    for r, (_, _, _, idx) in enumerate(pr.parts):
        c_row[idx] = r
    g_site, g_day = (keys // h, keys % h) if len(keys) else (np.zeros(0, int),) * 2
    caps = np.array([p[2] for p in pr.parts], int)
    return Index(c_group, c_row, o_group, g_day, g_site, caps)


def cut(
    pr: Problem,
    ix: Index,
    comps: np.ndarray,
    crews: np.ndarray | None = None,
    block: np.ndarray | None = None,
    crew_block: np.ndarray | None = None,
) -> Slice:
    """The slice with components ``comps`` (problem indices) and the options of ``crews`` (all
    crews when None). With ``block`` (per component of the problem) and ``crew_block`` (per
    crew), a crew only visits sites of its own block."""
    comps = np.asarray(comps, int)
    local = np.full(len(pr.assets), -1)
    local[comps] = np.arange(len(comps))
    cand = np.flatnonzero(local[pr.c_asset] >= 0)
    groups, c_group = np.unique(ix.c_group[cand], return_inverse=True)
    gl = np.full(len(ix.g_day), -1)
    gl[groups] = np.arange(len(groups))
    opt = np.flatnonzero(gl[ix.o_group] >= 0)
    if crews is not None:
        opt = opt[np.isin(pr.v_crew[opt], crews)]
    if block is not None and crew_block is not None:
        site_block = np.full(len(pr.sites), -1)
        site_block[pr.site_of] = block
        opt = opt[crew_block[pr.v_crew[opt]] == site_block[pr.v_site[opt]]]
    rows, c_row = np.unique(ix.c_row[cand], return_inverse=True)
    c_row = c_row - (1 if len(rows) and rows[0] == -1 else 0)
    real = rows[rows >= 0]
    return Slice(
        horizon=pr.horizon,
        n_crews=len(pr.crews),
        skill_mask=pr.skill_mask,
        comp=comps,
        hours=pr.hours[comps],
        none_cost=pr.none_cost[comps],
        type_of=pr.type_of[comps],
        cand=cand,
        c_asset=local[pr.c_asset[cand]],
        c_day=pr.c_day[cand],
        c_cost=pr.c_cost[cand],
        c_group=c_group.astype(int),
        c_row=np.where(ix.c_row[cand] >= 0, c_row, -1),
        c_forced=pr.c_forced[cand],
        c_crew=pr.c_crew[cand],
        g_day=ix.g_day[groups],
        group=groups,
        o_group=gl[ix.o_group[opt]],
        o_crew=pr.v_crew[opt],
        o_cap=pr.v_cap[opt],
        o_cost=pr.v_cost[opt],
        row_cap=ix.row_cap[real] if len(real) else np.zeros(0, int),
        block=np.zeros(len(comps), int) if block is None else np.asarray(block)[comps],
    )


def clusters(pr: Problem) -> list[tuple[np.ndarray, np.ndarray]]:
    """Regions joined by the depots they share: (components, own crews) of each, largest first.

    A crew belongs to its home region's cluster; regions without a crew of their own join
    the cluster of the first crew that reaches them, and a committed visit of a crew away
    from home joins its home's cluster and the site's.
    """
    parent = list(range(len(pr.regions)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    r_idx = {r: k for k, r in enumerate(pr.regions)}
    depot_regions: dict[str, set[int]] = {}
    for i, dep in pr.depot_of.items():
        depot_regions.setdefault(dep, set()).add(int(pr.site_region[pr.site_of[i]]))
    for regs in depot_regions.values():
        first, *rest = sorted(regs)
        for r in rest:
            parent[find(r)] = find(first)
    home = np.array([r_idx.get(c.home_region, -1) for c in pr.crews], int)
    for k in np.flatnonzero(pr.c_forced & (pr.c_crew >= 0)).tolist():  # a committed crew's
        r, h = int(pr.site_region[pr.site_of[pr.c_asset[k]]]), int(home[pr.c_crew[k]])  # visit
        if h >= 0:  # away from home joins the two regions: its day must not be planned twice
            parent[find(r)] = find(h)
    has_crew = {find(int(r)) for r in home if r >= 0}
    for k in range(len(pr.regions)):
        if find(k) not in has_crew:
            at = np.isin(pr.v_site, np.flatnonzero(pr.site_region == k))
            reaching = [int(home[j]) for j in pr.v_crew[at] if home[j] >= 0]
            if reaching:
                parent[find(k)] = find(reaching[0])
    root = (
        np.array([find(int(r)) for r in pr.site_region[pr.site_of]], int)
        if len(pr.assets)
        else np.zeros(0, int)
    )
    crew_root = np.array([find(int(r)) if r >= 0 else -1 for r in home], int)
    out = []
    for c in np.unique(root):
        out.append((np.flatnonzero(root == c), np.flatnonzero(crew_root == c)))
    return sorted(out, key=lambda x: -len(x[0]))


def blocks(pr: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Cluster of each component and of each crew (-1: a crew whose home has no components)."""
    comp_block = np.full(len(pr.assets), -1)
    crew_block = np.full(len(pr.crews), -1)
    for b, (comps, crews) in enumerate(clusters(pr)):
        comp_block[comps] = b
        crew_block[crews] = b
    return comp_block, crew_block


def copies(sl: Slice) -> Slice:
    """The slice with every crew copied into every block it reaches: blocks no longer share a
    crew-day. A relaxation (a crew may work in two blocks on one day), so its bounds hold."""
    g_block = np.zeros(sl.n_groups, int)
    g_block[sl.c_group] = sl.block[sl.c_asset]
    nb = int(sl.block.max()) + 1 if sl.n else 1
    out = Slice(**sl.__dict__)
    out.o_crew = sl.o_crew + sl.n_crews * g_block[sl.o_group]
    out.c_crew = np.where(sl.c_crew >= 0, sl.c_crew + sl.n_crews * sl.block[sl.c_asset], -1)
    out.skill_mask = np.tile(sl.skill_mask, nb)
    out.n_crews = sl.n_crews * nb
    return out


def part(sl: Slice, keep: np.ndarray) -> Slice:
    """The components ``keep`` (a mask over the slice's components) with their candidates,
    site-days, options and part rows; indices renumbered, maps back kept."""
    local = np.full(sl.n, -1)
    local[keep] = np.arange(int(keep.sum()))
    cand = np.flatnonzero(local[sl.c_asset] >= 0)
    groups, c_group = np.unique(sl.c_group[cand], return_inverse=True)
    gl = np.full(sl.n_groups, -1)
    gl[groups] = np.arange(len(groups))
    opt = np.flatnonzero(gl[sl.o_group] >= 0)
    rows = np.unique(sl.c_row[cand][sl.c_row[cand] >= 0])
    rl = np.full(len(sl.row_cap) + 1, -1)  # rl[-1]: no row
    rl[rows] = np.arange(len(rows))
    return Slice(
        horizon=sl.horizon, n_crews=sl.n_crews, skill_mask=sl.skill_mask, comp=sl.comp[keep],
        hours=sl.hours[keep], none_cost=sl.none_cost[keep], type_of=sl.type_of[keep],
        cand=sl.cand[cand], c_asset=local[sl.c_asset[cand]], c_day=sl.c_day[cand],
        c_cost=sl.c_cost[cand], c_group=c_group.astype(int),
        c_row=rl[sl.c_row[cand]] if len(rl) else np.full(len(cand), -1),
        c_forced=sl.c_forced[cand], c_crew=sl.c_crew[cand], g_day=sl.g_day[groups],
        group=sl.group[groups], o_group=gl[sl.o_group[opt]], o_crew=sl.o_crew[opt],
        o_cap=sl.o_cap[opt], o_cost=sl.o_cost[opt], row_cap=sl.row_cap[rows],
        block=sl.block[keep],
    )  # fmt: skip
