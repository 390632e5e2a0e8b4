"""The baseline kernel (baseline.py) hand-specialised for one channel of Python floats.

`sidecar score` and the per-row detectors step one series at a time, where the generic
kernel's backend calls (`xp.where` on plain bools, some 200 per sample) cost more than the
arithmetic. This module computes the same numbers with plain branches: every expression
keeps the generic kernel's operation order, so results agree to the bit (tested against
`evaluate`/`learn` on the scalar backend over gaps, infinities, shifts and tracked samples).
Change the math in baseline.py first, then mirror it here.
"""

from __future__ import annotations

import math
from typing import Any

from sidecar.detect.baseline import (
    _CLIP_AFTER,
    _REL_CAP,
    _Z_CAP,
    BIAS_RATE,
    DAY,
    DRIFT_STEP,
    FROZEN_STUCK,
    GRID,
    LEARN_LIMIT,
    LEVEL_GATE,
    MEAN_BINS,
    PERF_CAP,
    RANK_SLACK,
    SCALE_MEMORY,
    SELECTION_MEMORY,
    SIGMA_PER_MAD,
    SINGLE_BINS,
    BaselineParams,
    BaselineState,
    Evaluation,
    adopt_period,
)
from sidecar.detect.periodicity import day_before_one, remember_one

__all__ = ["evaluate_one", "learn_one"]

_isnan = math.isnan
_isfinite = math.isfinite
_floor = math.floor


def evaluate_one(params: BaselineParams, s: BaselineState, t: float, x: float) -> Evaluation:
    """`baseline.evaluate` for one channel of floats (does not mutate `s`)."""
    ok = _isfinite(x) and abs(x) < LEARN_LIMIT
    xs = x if ok else 0.0
    t_first = s.t_first
    elapsed = 0.0 if _isnan(t_first) else t - t_first
    k, clip_hi = params.cusum_k, params.cusum_clip
    clip_lo = -clip_hi
    vk, penalty = params.variance_k, params.complexity_penalty
    floor_q = params.quantum_floor * s.quantum
    periods, all_bins, eligible_after = params.periods, params.bins, params.eligible_after
    widths, stepwise = params.bin_widths, params.stepwise
    t_rel = t - ((t if _isnan(t_first) else t_first) % GRID - 0.5 * GRID)  # t - bin_origin
    n_cand = params.candidates
    found = params.found
    pred: list[Any] = [0.0] * n_cand
    resid: list[Any] = [0.0] * n_cand
    sigma: list[Any] = [0.0] * n_cand
    i0s: list[Any] = [None] * n_cand
    ws: list[Any] = [None] * n_cand
    cps: list[Any] = [0.0] * n_cand
    cns: list[Any] = [0.0] * n_cand
    cvs: list[Any] = [0.0] * n_cand
    effs = [0.0] * n_cand
    qqs = [0.0] * n_cand  # (1 + u^2/4)^2 per candidate, for the mixture
    eligibles = [True] * n_cand
    voices = 1
    levs, trends, errs, perfs, profs = s.level, s.trend, s.scale, s.selection_error, s.profiles
    s_cp, s_cn, s_cv = s.cusum_up, s.cusum_down, s.cusum_var
    best_eff = 0.0
    sel = 0
    for c in range(n_cand):
        lev = levs[c]
        p = lev + trends[c]
        if c == found and c:  # FOUND: bins on the clock, the period per channel
            period = s.period
            if not period > 0.0:  # not found yet: fixed read-outs (as baseline.evaluate)
                eligibles[c] = False
                sigma[c] = 1.0
                i0s[c] = ws[c] = 0.0
                continue
            bins = s.pbins
            width = period / bins
            pos = ((t - (s.bucket_offset - 0.5 * width)) % period) / width - 0.5
            lo = float(_floor(pos))
            w = pos - lo
            i0 = lo + bins if lo < 0 else lo
            i1 = i0 + 1 - bins if i0 + 1 >= bins else i0 + 1
            prof = profs[c]
            p = p + (1.0 - w) * prof[int(i0)] + w * prof[int(i1)]
            i0s[c] = i0
            ws[c] = w
        elif c:
            period, bins = periods[c - 1], all_bins[c - 1]
            pos = (t_rel % period) / widths[c - 1] - 0.5
            lo = float(_floor(pos))
            w = pos - lo
            i0 = lo + bins if lo < 0 else lo
            i1 = i0 + 1 - bins if i0 + 1 >= bins else i0 + 1
            prof = profs[c]
            if stepwise[c - 1]:  # the bin the sample falls in
                p = p + prof[int(i0 if w < 0.5 else i1)]
            else:
                p = p + (1.0 - w) * prof[int(i0)] + w * prof[int(i1)]
            i0s[c] = i0
            ws[c] = w
        fl = 1e-9 * abs(lev) + 1e-12
        if not fl >= floor_q:
            fl = floor_q
        sig = SIGMA_PER_MAD * errs[c]
        if not sig >= fl:
            sig = fl
        r = xs - p
        u = r / sig
        uc = clip_lo if u < clip_lo else (clip_hi if u > clip_hi else u)
        uz = -_Z_CAP if u < -_Z_CAP else (_Z_CAP if u > _Z_CAP else u)
        q = 1.0 + uz * uz * 0.25
        qqs[c] = q * q
        v = s_cp[c] + uc - k
        cps[c] = 0.0 if v <= 0.0 else v
        v = s_cn[c] - uc - k
        cns[c] = 0.0 if v <= 0.0 else v
        v = s_cv[c] + abs(uc) - vk
        cvs[c] = 0.0 if v <= 0.0 else v
        pred[c] = p
        resid[c] = r
        sigma[c] = sig
        eff = perfs[c] * (1.0 + penalty * c)
        effs[c] = eff
        if c == 0:
            best_eff = eff
        else:
            eligible = c == found or elapsed >= eligible_after[c - 1]
            eligibles[c] = eligible
            if eligible:
                voices += 1
                if eff < best_eff:
                    best_eff = eff
                    sel = c
    center, spread, r_sel = pred[sel], sigma[sel], resid[sel]
    cp, cn = cps[sel], cns[sel]
    m = cp if cp >= cn else cn
    cv = cvs[sel] * (params.cusum_h / params.variance_h)
    cus = m if m >= cv else cv
    # a value too large to learn (or infinite) is maximally anomalous, not missing
    if not ok:
        z = 0.0 if _isnan(x) else math.inf
    elif voices == 1:  # one candidate alone: its own deviation, exactly
        z = abs(r_sel) / spread
    else:
        z = _mixture_z(
            params, qqs, effs, eligibles, best_eff, sel, abs(r_sel) / spread, sigma, spread
        )
    same = ok and xs == s.x_last
    run = s.run + 1.0 if same else 0.0
    if ok:
        u = r_sel / spread
        u = clip_lo if u < clip_lo else (clip_hi if u > clip_hi else u)
        u = -z if u < -z else (z if u > z else u)  # no larger than the mixture's deviation
    else:
        u = 0.0
    u1, u2 = s.resid_last, s.resid_before
    lo, hi = (u1, u2) if u1 <= u2 else (u2, u1)
    med = hi if u >= hi else (lo if u <= lo else u)  # median of three
    hspread, dt, width = s.hspread, s.dt, s.hwidth
    if hspread > 0.0 and 0.0 < dt < width:  # periodicity.sample_spread, inline
        hspread = math.sqrt(hspread * hspread + spread * spread * (1.0 - dt / width))
    history_z = abs(xs - s.hmed) / hspread if ok and hspread > 0.0 else math.inf
    level_z = history_z if z >= LEVEL_GATE and history_z != math.inf else 0.0
    day_z = 0.0
    dspread = s.hday_spread
    if ok and dspread > 0.0:
        if 0.0 < dt < width:  # periodicity.sample_spread, inline
            dspread = math.sqrt(dspread * dspread + spread * spread * (1.0 - dt / width))
        change = abs(xs - day_before_one(s, t))
        if not _isnan(change):  # yesterday's bucket is known
            day_z = change / dspread
    return Evaluation(  # positional (field order), which builds it ~2x faster than keywords
        xs,
        t,
        ok,
        float(sel),
        pred,
        resid,
        sigma,
        i0s,
        ws,
        cps,
        cns,
        cvs,
        z,
        cus / params.cusum_h,
        same,
        run,
        run * (1.0 - s.repeat_rate) * params.stuck_gain,
        u,
        abs(med),
        center,
        spread,
        s.n >= params.warmup,
        s.dt,
        s.drift,
        level_z,
        history_z,
        day_z,
    )


def _mixture_z(
    params: BaselineParams,
    qqs: list[float],
    effs: list[float],
    eligibles: list[bool],
    best_eff: float,
    sel: int,
    z_sel: float,
    sigmas: list[float],
    spread: float,
) -> float:
    """`baseline._mixture_z` for one channel of floats (same operations, same order), given
    each candidate's (1 + u^2/4)^2."""
    known = best_eff > 0.0
    sharp = params.mix_sharpness
    num = 0.0
    den = 0.0
    for c in range(len(qqs)):
        if not eligibles[c]:
            continue  # weight 0: adds exactly nothing
        if c == sel:
            w = 1.0  # its own error is the best: rel = 0 exactly, as the generic kernel finds
        else:
            if known:
                ratio = effs[c] / best_eff
                wide = sigmas[c] / spread
                rel = (ratio if ratio >= wide else wide) - 1.0
            else:
                rel = _REL_CAP
            d = sharp * (rel if rel <= _REL_CAP else _REL_CAP)
            w = 1.0 / (1.0 + d * d)
        num = num + w / qqs[c]
        den = den + w
    p = num / den
    if not p > 0.0:
        return z_sel
    v = 1.0 / math.sqrt(p) - 1.0
    return 2.0 * math.sqrt(v if v >= 0.0 else 0.0)


def _median3(v: float, a: float, b: float) -> float:
    """The median of `v`, `a` and `b` (`v` clamped between the other two), as
    `baseline._median3` computes it."""
    lo, hi = (a, b) if a <= b else (b, a)
    return hi if v >= hi else (lo if v <= lo else v)


def learn_one(params: BaselineParams, s: BaselineState, ev: Evaluation, mask: bool = True) -> None:
    """`baseline.learn` for one channel of floats: learn `ev` (or only track it, `mask` false)."""
    if not ev.ok:
        return  # neither learned nor tracked: the generic kernel leaves the state as it is
    do = bool(mask)
    t = ev.t
    n = s.n
    first = n == 0.0
    a = params.alpha
    inv_n = 1.0 / (n + 1.0)
    al = a if a >= inv_n else inv_n
    clip_on = n >= _CLIP_AFTER
    warm = n >= params.warmup
    gap = t - (t if first else s.t_last)
    new_dt = gap if _isnan(s.dt) else s.dt + 0.1 * (gap - s.dt)
    t_first = t if first else s.t_first
    elapsed = t - t_first
    dt_known = not (_isnan(new_dt) or new_dt <= 0.0)
    a_perf = al_scale = a  # = baseline._rate(..., memory) for both memories, inlined
    if dt_known:
        v = new_dt / SELECTION_MEMORY
        if not a_perf <= v:
            a_perf = v
        v = new_dt / SCALE_MEMORY
        if not al_scale <= v:
            al_scale = v
    if not a_perf >= inv_n:
        a_perf = inv_n
    if not al_scale >= inv_n:
        al_scale = inv_n
    if not al_scale >= params.alpha_scale:
        al_scale = params.alpha_scale
    damping, gain = params.trend_damping, params.trend_gain
    k, h, vk, vh = params.cusum_k, params.cusum_h, params.variance_k, params.variance_h
    x = ev.x
    resids, sigmas, cps, cns, cvs = ev.resid, ev.sigma, ev.cusum_up, ev.cusum_down, ev.cusum_var
    levs, trends, errs, perfs, profs, biases = (
        s.level,
        s.trend,
        s.scale,
        s.selection_error,
        s.profiles,
        s.bias,
    )
    s_cp, s_cn, s_np, s_nn, s_cv, s_nv = (
        s.cusum_up,
        s.cusum_down,
        s.cusum_up_run,
        s.cusum_down_run,
        s.cusum_var,
        s.cusum_var_run,
    )
    periods, all_bins = params.periods, params.bins
    relevel_after = params.season_relevel_cycles
    season_cycles, widths, stepwise = params.season_cycles, params.bin_widths, params.stepwise
    sel = ev.sel
    borrow = params.borrow_first_cycle
    moved = 0.0
    tamed = 0.0
    frozen = ev.same and ev.stuck >= FROZEN_STUCK  # FROZEN (see baseline.learn)
    found = params.found
    for c in range(0 if frozen else len(resids)):  # the candidates neither learn nor track it
        elapsed_c = elapsed
        if c == found and c:  # FOUND: only once a period is found; past its first cycles
            if not s.period > 0.0:
                continue
            elapsed_c = math.inf
        r, sig = resids[c], sigmas[c]
        abs_p = abs_r = abs(r)
        if c:  # BIAS_RATE: a seasonal candidate's spread around its recent mean residual
            abs_r = abs(r - biases[c])
        if clip_on:
            lo, hi = -3.0 * sig, 3.0 * sig
            rc = lo if r < lo else (hi if r > hi else r)
            cap = 4.0 * sig
            if not abs_r <= cap:
                abs_r = cap
            cap = PERF_CAP * sig
            if not abs_p <= cap:
                abs_p = cap
        else:
            rc = r
        if c:  # a seasonal level moves over about one period, so the profile holds the shape
            if c == found:
                period = s.period
                bins = s.pbins
                width = period / bins
            else:
                period, bins, width = periods[c - 1], all_bins[c - 1], widths[c - 1]
            dt_c = new_dt if dt_known else period
            per_bin = width / dt_c
            anchored = per_bin >= MEAN_BINS
            al_c = a  # = baseline._rate(..., period), inlined: per candidate
            if dt_known:
                v = new_dt / period
                if not al_c <= v:
                    al_c = v
            if not al_c >= inv_n:
                al_c = inv_n
            if elapsed_c < 2.0 * period and (elapsed_c >= period or anchored):  # held: see learn
                al_c = 0.0
        else:
            al_c = al
            tamed = ev.pred[0] + rc  # clipped around the no-season level (see `tamed`)
        lev, b, err = levs[c], trends[c], errs[c]
        cp, cn, cv = cps[c], cns[c], cvs[c]
        np_ = s_np[c] + 1.0 if cp > 0.0 else 0.0
        nn = s_nn[c] + 1.0 if cn > 0.0 else 0.0
        nv = s_nv[c] + 1.0 if cv > 0.0 else 0.0
        relevel = warm and (not c or elapsed_c >= relevel_after * period)
        up = relevel and cp > h
        down = relevel and cn > h
        wider = warm and cv > vh and not (up or down)
        if up or down:  # rare: the generic kernel's (up ? shift_up : 0) - (down ? shift_down : 0)
            shift_up = sig * (cp / (np_ if np_ >= 1.0 else 1.0) + k) if up else 0.0
            shift_down = sig * (cn / (nn if nn >= 1.0 else 1.0) + k) if down else 0.0
            shift = shift_up - shift_down
        else:
            shift = 0.0  # = 0.0 - 0.0
        if wider:
            ratio = (cv / (nv if nv >= 1.0 else 1.0) + vk) / (1.0 / SIGMA_PER_MAD)
        if c and do and not first:  # PROFILE: see baseline.learn
            i0 = ev.i0[c]
            w = ev.w[c]
            i1 = i0 + 1 - bins if i0 + 1 >= bins else i0 + 1
            prof = profs[c]
            if anchored and elapsed_c < period:  # per-bin means against the held level
                below = w < 0.5
                into = w + 0.5 if below else w - 0.5
                if gap > into * width + 0.5 * dt_c:
                    rank = 1.0
                else:
                    rank = float(_floor(into * per_bin + RANK_SLACK)) + 1.0
                near = int(i0 if below else i1)
                if rank == 1.0:  # nothing to clip against yet: `tamed` (see baseline.learn),
                    x_last = s.x_last  # the median of it, this sample and the one before
                    if not _isnan(x_last):
                        tamed = _median3(tamed, x, x_last)
                    own = tamed - (lev + b + prof[near])
                else:  # clipped around the bin's mean, not the interpolated prediction
                    own = x - (lev + b + prof[near])
                    if clip_on:
                        lo, hi = -3.0 * sig, 3.0 * sig
                        own = lo if own < lo else (hi if own > hi else own)
                x_last = s.x_last
                if rank == 2.0 and not _isnan(x_last) and abs(x - x_last) <= 3.0 * sig:
                    # SECOND: it confirms the bin's first sample (see baseline.learn)
                    prof[near] += (0.5 * (x + x_last) - (lev + b)) - prof[near]
                else:
                    prof[near] += own / rank
                # CONFIRMED / REJECTED (see baseline.learn): the sample before this one
                if per_bin < SINGLE_BINS and not _isnan(x_last) and s.t_last - t_first < period:
                    confirmed = abs(x - x_last) <= 3.0 * sig
                    if confirmed or abs(s.resid_last) > 3.0:
                        origin = s.t_first % GRID - 0.5 * GRID  # = bin_origin (not first)
                        last = float(_floor(((s.t_last - origin) % period) / width))
                        if last >= bins:
                            last = last - bins
                        if last != near:
                            target = x_last if confirmed else _median3(ev.pred[0], x, x_last)
                            k_last = int(last)
                            prof[k_last] += (target - (lev + b)) - prof[k_last]
            else:
                per_bin_c = 1.0 if per_bin <= 1.0 else per_bin
                # FOUND: steady from the start, its profile folded from history
                cycles = season_cycles if c == found else float(_floor(elapsed / period))
                if anchored:  # its first cycle was a mean: the k-th learns 1/k
                    cycles += 1.0
                if not cycles >= 1.0:
                    cycles = 1.0
                if not cycles <= season_cycles:  # at least 1/season_cycles a cycle
                    cycles = season_cycles
                a_s = 1.0 / (per_bin_c * cycles)
                delta = a_s * (1.0 - al_c) * rc
                if c != found and stepwise[c - 1]:
                    prof[int(i0 if w < 0.5 else i1)] += delta
                else:
                    prof[int(i0)] += (1.0 - w) * delta
                    prof[int(i1)] += w * delta
        if do:
            if first:
                levs[c] = x + shift
                trends[c] = 0.0
            else:
                levs[c] = lev + b + al_c * rc + shift
                trends[c] = damping * b + al_c * (gain if not c else 0.0) * rc
            e = err + al_scale * (abs_r - err)
            errs[c] = e * ratio if wider else e
            perfs[c] = perfs[c] + a_perf * (abs_p - perfs[c])
            if c and elapsed_c < period and borrow and anchored and period <= DAY:  # BORROWED
                errs[c] = errs[0]
                perfs[c] = perfs[0]
            if c and not first:
                bias = biases[c]
                biases[c] = bias + BIAS_RATE * (rc - bias)
        else:
            levs[c] = lev + b + shift
            trends[c] = damping * b
            errs[c] = err * ratio if wider else err
        if c == sel:  # the read-out level's move in sigmas, clipped at DRIFT_STEP
            m = 0.0 if first else (levs[c] - lev) / sig
            moved = -DRIFT_STEP if m < -DRIFT_STEP else (DRIFT_STEP if m > DRIFT_STEP else m)
        if up or down:
            cp = cn = np_ = nn = cv = nv = 0.0
        if wider:
            cv = nv = 0.0
        s_cp[c], s_cn[c], s_np[c], s_nn[c], s_cv[c], s_nv[c] = cp, cn, np_, nn, cv, nv
    s.drift = s.drift * params.drift_keep + moved
    # the series' resolution: the smallest nonzero step between learned samples
    x_last = s.x_last
    dx = abs(x - (x if _isnan(x_last) else x_last))
    if dx > 0.0 and (s.quantum == 0.0 or dx < s.quantum):
        s.quantum = dx
    s.x_last = x
    if do and not first:
        s.repeat_rate = s.repeat_rate + al * ((1.0 if ev.same else 0.0) - s.repeat_rate)
    s.run = ev.run
    s.resid_before = s.resid_last
    s.resid_last = ev.u
    if not first:
        s.dt = new_dt
    if do:
        s.t_first = t_first
        s.n = n + 1.0
    s.t_last = t
    if do and not frozen:  # the history (periodicity.py)
        width = s.hwidth
        if width > 0.0 and float(_floor(t / width)) <= s.hbucket:  # its open bucket, inline
            s.hsum += x
            s.hcount += 1.0
        else:
            new_period = remember_one(s, t, x, params.find_period, periods)
            if new_period is not None:
                adopt_period(s, found, new_period)
