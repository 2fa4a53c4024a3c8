"""Issue 30, part A: threshold rules for a saturated validation split, as drop-ins for `pneumo_nb.evaluate.choose_threshold`.

`choose_threshold_rule(y_val, p_val, min_sensitivity, thresholds, rule=..., groups=None)` implements every candidate
declared in DECLARATION.md; `choose_threshold` (same signature and return as the library's, plus `rule` and
`groups`) is the winner of the declared measurement (see README.md). The returned table is the library's:
`threshold_table` columns plus `meets_target` and `chosen`; `attrs` has `fell_back`, `min_sensitivity`, and now
`rule` (its name) and `tied` (how many candidates tie with the best validation balanced accuracy).

Run `python benchmarks/folders/threshold_rule.py` for the unit checks.
"""
import warnings
import numpy as np
from scipy.special import logit, ndtr
from pneumo_nb.evaluate import threshold_table, THRESHOLDS
from pneumo_nb.data import refuse_test

RULES = ('lowest', 'highest', 'mid_logit', 'mid_logit_tol', 'smooth0.5', 'smooth1', 'bagged')
SHIFT_RULES = ('shift_ba', 'pooled_ba')   # addendum A2: they need `p_shift`, the shifted validation copies' probabilities
TOL = 0.005          # mid_logit_tol: balanced accuracy within this of the best counts as tied
N_BAG = 200          # bagged: bootstrap resamples
DEFAULT_RULE = 'lowest'      # without shifted copies: part A's declared outcome, today's rule stays (README.md)
SHIFT_DEFAULT = 'pooled_ba'  # with shifted copies (`p_shift`): addendum A2's winner (README.md)

def _z(t): return logit(np.clip(np.asarray(t, float), 1e-6, 1 - 1e-6))

def _snap(target_z, cands):
    "The candidate nearest to `target_z` in logit space (ties: the lower); `cands` a sorted array of thresholds."
    d = np.abs(_z(cands) - target_z)
    return float(cands[np.flatnonzero(d <= d.min() + 1e-9)[0]])

def _smooth_ba(y, p, ts, sigma):
    "Balanced accuracy with each validation logit perturbed by N(0, sigma^2), in expectation."
    z, zt = _z(p), _z(ts)[:, None]
    sens = ndtr((z[None, y == 1] - zt) / sigma).mean(1)
    spec = ndtr((zt - z[None, y == 0]) / sigma).mean(1)
    return (sens + spec) / 2

def _lowest_fast(y, p, ts, m):
    "Today's rule on one resample, vectorised (no table): the lowest best-BA threshold with sensitivity >= m, or None."
    pos = p[y == 1][None] >= ts[:, None]; neg = p[y == 0][None] < ts[:, None]
    sens, spec = pos.mean(1), neg.mean(1)
    ok = sens >= m - 1e-12
    if not ok.any() or not (y == 0).any() or not (y == 1).any(): return None
    ba = np.where(ok, (sens + spec) / 2, -1)
    return ts[int(np.argmax(ba))]

def choose_threshold_rule(y_val, # VALIDATION labels (never test)
                          p_val, # VALIDATION probabilities of PNEUMONIA
                          min_sensitivity:float=0.95, # the sensitivity the threshold must keep
                          thresholds=None, # candidate thresholds; None: `THRESHOLDS` (0.01-0.99 by 0.01)
                          rule:str=DEFAULT_RULE, # one of `RULES`
                          groups=None, # patient id of each validation image (only `bagged` uses it; None: images)
                          seed:int=0, # `bagged`'s resampling seed
                          p_shift=None # A2 rules: probabilities of K shift-perturbed copies of the same validation images, [K, N]
                         ) -> tuple:
    "`(threshold, table)` as `choose_threshold`, with the tie among best-balanced-accuracy thresholds broken by `rule`."
    if rule not in RULES + SHIFT_RULES: raise ValueError(f"Unknown rule {rule!r}; rules: {', '.join(RULES + SHIFT_RULES)}")
    if rule in SHIFT_RULES and p_shift is None: raise ValueError(f"rule {rule!r} needs p_shift, the shifted validation probabilities [K, N].")
    refuse_test(y_val, p_val, what='choosing a threshold')
    tab = threshold_table(y_val, p_val, thresholds)
    tab['meets_target'] = tab['sensitivity'] >= min_sensitivity - 1e-12
    ok = tab['meets_target'].values
    ts, ba = tab['threshold'].values, tab['balanced_accuracy'].values
    if not ok.any():   # today's fall-back, unchanged
        best = tab['sensitivity'].max()
        i = tab.loc[tab['sensitivity'] == best, 'balanced_accuracy'].idxmax()
        warnings.warn(f"No threshold in [{ts.min():.2f}, {ts.max():.2f}] reaches sensitivity {min_sensitivity:.2f} on "
                      f"validation (best {best:.3f}); falling back to the threshold with the highest sensitivity, "
                      f"{ts[i]:.2f}. Widen `thresholds` or lower `min_sensitivity`.")
        tied = 0
    else:
        bmax = ba[ok].max()
        tie = ok & (ba >= bmax - 1e-12)
        tied = int(tie.sum())
        if rule in SHIFT_RULES:
            y = np.asarray(y_val).ravel().astype(int); P = np.atleast_2d(np.asarray(p_shift, float))
            if P.shape[1] != len(y): raise ValueError(f"p_shift must be [K, {len(y)}], not {list(P.shape)}.")
            if rule == 'pooled_ba': P = np.vstack([np.asarray(p_val, float).ravel()[None], P])
            pred = P[:, None, :] >= ts[None, :, None]                       # [K, T, N]
            sens, spec = pred[..., y == 1].mean(-1), (~pred[..., y == 0]).mean(-1)
            s = np.where(ok, ((sens + spec) / 2).mean(0), -np.inf)       # mean over copies (pooled: equal-size copies)
            B = np.sort(ts[s >= s.max() - 1e-12])
            t = _snap((_z(B.min()) + _z(B.max())) / 2, B)
        elif rule == 'lowest': t = ts[tie].min()
        elif rule == 'highest': t = ts[tie].max()
        elif rule in ('mid_logit', 'mid_logit_tol'):
            B = ts[tie] if rule == 'mid_logit' else ts[ok & (ba >= bmax - TOL - 1e-12)]
            t = _snap((_z(B.min()) + _z(B.max())) / 2, np.sort(B))
        elif rule.startswith('smooth'):
            y, p = np.asarray(y_val).ravel().astype(int), np.asarray(p_val, float).ravel()
            s = np.where(ok, _smooth_ba(y, p, ts, float(rule[6:])), -np.inf)
            t = ts[int(np.argmax(s))]
        else:   # bagged
            y, p = np.asarray(y_val).ravel().astype(int), np.asarray(p_val, float).ravel()
            g = np.arange(len(y)) if groups is None else np.asarray(groups)
            ug, inv = np.unique(g, return_inverse=True)
            members = [np.flatnonzero(inv == k) for k in range(len(ug))]
            rng = np.random.default_rng(seed); zs = []
            for _ in range(N_BAG):
                idx = np.concatenate([members[k] for k in rng.integers(0, len(ug), len(ug))])
                tb = _lowest_fast(y[idx], p[idx], ts, min_sensitivity)
                if tb is not None: zs.append(_z(tb))
            t = _snap(float(np.median(zs)), np.sort(ts[ok])) if zs else ts[tie].min()
        i = int(np.flatnonzero(ts == t)[0])
    tab['chosen'] = tab.index == i
    tab.attrs.update(fell_back=not bool(ok.any()), min_sensitivity=min_sensitivity, rule=rule, tied=tied)
    return float(ts[i]), tab

def choose_threshold(y_val, # VALIDATION labels (never test)
                     p_val, # VALIDATION probabilities of PNEUMONIA
                     min_sensitivity:float=0.95, # the sensitivity the threshold must keep
                     thresholds=None, # candidate thresholds; None: `THRESHOLDS` (0.01-0.99 by 0.01)
                     p_shift=None # probabilities of shift-perturbed copies of the same validation images, [K, N] (`shift_probs`); None: today's rule
                    ) -> tuple:
    "`(threshold, table)`: the best balanced accuracy among thresholds whose validation sensitivity >= `min_sensitivity`, on validation pooled with its shifted copies when `p_shift` is given; `table.attrs`: 'fell_back', 'min_sensitivity', 'rule', 'tied'."
    return choose_threshold_rule(y_val, p_val, min_sensitivity, thresholds, rule=DEFAULT_RULE if p_shift is None else SHIFT_DEFAULT,
                                 p_shift=p_shift)

def shift_probs(model, # a trained model (a run's `model`)
                x_val, # the VALIDATION images, uint8 [N,H,W]
                batch:dict, # the run's batch preprocessing (`Run.batch`, `learn.preprocessing`)
                device=None) -> np.ndarray:
    "`p_shift` for `choose_threshold`: P(PNEUMONIA) on each copy of `pneumo_nb.search.shifted_copies(x_val)`, [7, N] (the choosing shifts measured here)."
    try: from pneumo_nb.search import shifted_copies
    except ImportError: from pneumo_nb.criterion import shifted_copies   # the lead's restructured package
    from pneumo_nb.evaluate import predict_arrays
    from pneumo_nb.data import tag_split
    refuse_test(x_val, what='choosing a threshold')
    x = np.asarray(x_val)
    return predict_arrays(model, tag_split(shifted_copies(x), 'valid'), batch, device=device).reshape(-1, len(x))

# ------------------------------------------------------------------------------------------------ unit checks
def _checks():
    from pneumo_nb.evaluate import choose_threshold as lib
    from pneumo_nb.data import tag_split, TestSplitError
    rng = np.random.default_rng(0)
    # 1. a saturated validation split: NORMAL logits ~ -4, PNEUMONIA ~ +4, separated: a wide tie
    y = np.r_[np.zeros(200), np.ones(600)].astype(int)
    z = np.r_[rng.normal(-4, 0.7, 200), rng.normal(4, 0.7, 600)]
    p = 1 / (1 + np.exp(-z))
    t0, tab0 = lib(y, p); tl, tabl = choose_threshold_rule(y, p, rule='lowest')
    assert t0 == tl and tab0.columns.tolist() == tabl.columns.tolist()[:len(tab0.columns)], 'lowest must be the library rule'
    assert (tab0['chosen'] == tabl['chosen']).all()
    tm, tabm = choose_threshold_rule(y, p, rule='mid_logit')
    tie = tabm.meets_target & (tabm.balanced_accuracy >= tabm.balanced_accuracy[tabm.meets_target].max() - 1e-12)
    lo, hi = tabm.threshold[tie].min(), tabm.threshold[tie].max()
    assert tabm.attrs['tied'] > 10 and lo == t0 and tl < tm < hi, (t0, tm, lo, hi)
    assert abs(_z(tm) - (_z(lo) + _z(hi)) / 2) <= 0.5 * np.diff(_z(tabm.threshold.values)).max()   # in the middle, in logit space
    assert bool(tie[tabm.chosen].iloc[0]), 'the chosen threshold is one of the tied best'
    assert tabm.attrs['rule'] == 'mid_logit' and tabm.attrs['fell_back'] is False and tabm['chosen'].sum() == 1
    td, tabd = choose_threshold(y, p)   # the proposed default without shifted copies is the library's rule
    assert td == t0 and tabd.attrs['rule'] == 'lowest' and (tabd['chosen'] == tab0['chosen']).all()
    # 2. every rule keeps the sensitivity target and returns one of the candidates
    for r in RULES:
        t, tb = choose_threshold_rule(y, p, rule=r, groups=np.arange(len(y)) // 2)
        assert tb.loc[tb.chosen, 'sensitivity'].iloc[0] >= 0.95 and t in set(THRESHOLDS) and tb.attrs['rule'] == r
    # 3. no tie: every rule that breaks ties agrees with the library
    y2 = np.r_[np.zeros(50), np.ones(50)].astype(int); p2 = np.r_[np.linspace(0.05, 0.6, 50), np.linspace(0.4, 0.95, 50)]
    t2, tb2 = lib(y2, p2)
    if tb2.attrs.get('fell_back') is False and choose_threshold_rule(y2, p2, rule='lowest')[1].attrs['tied'] == 1:
        for r in ('highest', 'mid_logit'): assert choose_threshold_rule(y2, p2, rule=r)[0] == t2
    # 4. the fall-back is today's, with its warning
    y3 = np.r_[np.zeros(10), np.ones(10)].astype(int); p3 = np.r_[np.full(10, 0.5), np.full(10, 0.005)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); t3, tb3 = choose_threshold(y3, p3)
    assert tb3.attrs['fell_back'] and any('falling back' in str(x.message) for x in w)
    with warnings.catch_warnings(): warnings.simplefilter('ignore'); assert t3 == lib(y3, p3)[0]
    # 5. test data is refused, as by the library
    try: choose_threshold(tag_split(y, 'test'), tag_split(p, 'test')); raise AssertionError('test data accepted')
    except TestSplitError: pass
    # 6. plain lists are accepted as the library accepts them
    assert choose_threshold(y, p)[0] == choose_threshold(list(y), list(p))[0]
    # 7. A2 rules: with shifted copies that raise NORMAL scores, they choose a higher threshold than on clean data alone
    zs = np.stack([z + np.where(y == 0, d, 0.) for d in (1.0, 2.0, 3.0)]); ps = 1 / (1 + np.exp(-zs))
    z2 = np.r_[rng.normal(-1.5, 1.0, 200), rng.normal(3, 1.5, 600)]; p2c = 1 / (1 + np.exp(-z2))
    ps2 = 1 / (1 + np.exp(-np.stack([z2 + np.where(y == 0, d, 0.) for d in (1.0, 2.0)])))
    for r in SHIFT_RULES:
        t, tb = choose_threshold_rule(y, p2c, rule=r, p_shift=ps2)
        assert t > choose_threshold_rule(y, p2c, rule='lowest')[0] and tb.loc[tb.chosen, 'sensitivity'].iloc[0] >= 0.95 and tb.attrs['rule'] == r
        assert choose_threshold_rule(y, p, rule=r, p_shift=ps)[1].loc[lambda d: d.chosen, 'sensitivity'].iloc[0] >= 0.95
    tc, tbc = choose_threshold(y, p2c, p_shift=ps2)
    assert tbc.attrs['rule'] == 'pooled_ba' and tc == choose_threshold_rule(y, p2c, rule='pooled_ba', p_shift=ps2)[0]
    try: choose_threshold_rule(y, p, rule='shift_ba'); raise AssertionError('p_shift not required')
    except ValueError: pass
    # 8. real data: the shipped pneumoniamnist-28 on its own validation split (524 images), as measured in results/a2_rules.csv
    import os
    from pneumo_nb.runs import load_run
    from pneumo_nb.data import run_data
    r = load_run('pneumoniamnist-28')
    d = run_data('pneumoniamnist', os.environ.get('PNEUMO_DATA', '/work/shared/data'), 28, raw=r.raw, split=r.split, splits=('valid',))
    xv, yv = d.xy('valid')
    pv = r.predictions.query("split == 'valid'").prob_pneumonia.values
    P = shift_probs(r.model, xv, r.batch, device='cpu')
    assert P.shape == (7, len(yv))
    assert choose_threshold(yv, pv)[0] == r.threshold == 0.23          # without copies: the shipped threshold (today's rule)
    t8, tab8 = choose_threshold(yv, pv, p_shift=P)
    assert t8 == 0.37 and tab8.attrs['rule'] == 'pooled_ba' and tab8.loc[tab8.chosen, 'sensitivity'].iloc[0] >= 0.95, t8
    print('threshold_rule: all checks passed')

if __name__ == '__main__': _checks()
