"""After-the-fact comparison of validation criteria (issue 12 item 3). THIS SCRIPT READS TEST PREDICTIONS.

Reads logs/validation/probs_*.npz (written by validation.py), computes every candidate criterion on validation
data only, then ranks the configurations by each criterion and by test, and reports Spearman's rho
(scipy.stats.spearmanr) of each criterion with test AUC and test ACC at 0.5, plus the test AUC/ACC of the
configuration each criterion would have picked. Writes logs/validation/analysis.json and prints Markdown tables.

    python validation_analysis.py [--tta 1|2]
"""
import os, sys, json, glob, argparse
import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from validation import STUDY, SHIFTS, OUT, patient_data
from recipe import load

def nll(y, p): p = np.clip(p, 1e-7, 1 - 1e-7); return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
def brier(y, p): return float(np.mean((p - y) ** 2))
def acc(y, p): return float(((p >= 0.5) == (y == 1)).mean())
def auc(y, p): return float(roc_auc_score(y, p))

# criterion name -> (function of the prediction dict P and the labels, higher_is_better)
def _shift_pool(P, sfx): return np.concatenate([P[f'shift_{k}{sfx}'] for k in SHIFTS])

def criteria(P, PP, yv, yp, sfx):
    "All candidate criteria from validation predictions only (P: official model, PP: patient-level model or None)."
    ys = np.tile(yv, len(SHIFTS)); pv = P['val' + sfx]; ps = _shift_pool(P, sfx)
    c = {'val_auc': auc(yv, pv), 'val_nll': -nll(yv, pv), 'val_brier': -brier(yv, pv), 'val_acc': acc(yv, pv),
         'shift_auc': auc(ys, ps), 'shift_nll': -nll(ys, ps), 'shift_acc': acc(ys, ps),
         'shift_worst_auc': min(auc(yv, P[f'shift_{k}{sfx}']) for k in SHIFTS)}
    for k in SHIFTS: c[f'shift_{k}_auc'] = auc(yv, P[f'shift_{k}{sfx}'])
    if PP is not None:
        pp = PP['val' + sfx]
        c.update(patient_auc=auc(yp, pp), patient_nll=-nll(yp, pp), patient_brier=-brier(yp, pp), patient_acc=acc(yp, pp))
    return c

def main(tta=2):
    sfx = '' if tta == 1 else '_tta'
    d = load(); yv, yt = d['val'][1].numpy(), d['test'][1].numpy()
    yp = patient_data()[0]['val'][1].numpy()
    rows = {}
    for name in STUDY:
        seeds = sorted(int(f.rsplit('_s', 1)[1].split('.')[0]) for f in glob.glob(f'{OUT}/probs_{name}_s*.npz') if '_patient' not in f)
        if 0 not in seeds: continue
        P = {s: dict(np.load(f'{OUT}/probs_{name}_s{s}.npz')) for s in seeds}
        fp = f'{OUT}/probs_{name}_s0_patient.npz'
        PP = dict(np.load(fp)) if os.path.exists(fp) else None
        from validation import CONFIGS
        r = dict(seeds=seeds, crit=criteria(P[0], PP, yv, yp, sfx), cfg_affine=CONFIGS[name].get('affine', 0.0),
                 test_auc=auc(yt, P[0]['test' + sfx]), test_acc=acc(yt, P[0]['test' + sfx]))
        if len(seeds) >= 2:   # seed ensemble: average the probabilities of seeds 0 and 1
            E = {k: np.mean([P[s][k] for s in seeds[:2]], 0) for k in P[0]}
            ce = criteria(E, None, yv, yp, sfx)
            r['crit'].update({f'ens2_{k}': v for k, v in ce.items() if not k.startswith('shift_') or k in ('shift_auc', 'shift_nll')})
            r['mean2_test_auc'] = float(np.mean([auc(yt, P[s]['test' + sfx]) for s in seeds[:2]]))
            r['mean2_test_acc'] = float(np.mean([acc(yt, P[s]['test' + sfx]) for s in seeds[:2]]))
            r['ens2_test_auc'], r['ens2_test_acc'] = auc(yt, E['test' + sfx]), acc(yt, E['test' + sfx])
        rows[name] = r
    names = list(rows)
    cnames = [k for k in rows[names[0]]['crit'] if all(k in rows[n]['crit'] for n in names)]
    def corr_table(targets, subset):
        out = {}
        for k in cnames:
            v = [rows[n]['crit'][k] for n in subset]
            e = {}
            for t in targets:
                tv = [rows[n][t] for n in subset]
                rho, pval = spearmanr(v, tv)
                e[t] = dict(rho=float(rho), p=float(pval))
            pick = subset[int(np.argmax(v))]
            e['pick'] = pick
            e.update({f'pick_{t}': rows[pick][t] for t in targets})
            out[k] = e
        return out
    res = dict(tta=tta, n_configs=len(names), configs=names, rows=rows,
               single=corr_table(['test_auc', 'test_acc'], names))
    two = [n for n in names if 'mean2_test_auc' in rows[n]]
    if len(two) >= 5:
        cn2 = [k for k in cnames]
        cn2 += [k for k in rows[two[0]]['crit'] if k.startswith('ens2_') and k not in cn2]
        cnames_bak = cnames; cnames = [k for k in cn2 if all(k in rows[n]['crit'] for n in two)]
        res['two_seeds'] = dict(configs=two, corr=corr_table(['mean2_test_auc', 'mean2_test_acc', 'ens2_test_auc', 'ens2_test_acc'], two))
        cnames = cnames_bak
    with open(os.path.join(OUT, f'analysis_tta{tta}.json'), 'w') as f: json.dump(res, f, indent=1)
    # ---- Markdown
    print(f'## Criteria vs test (flip TTA: {tta == 2}), {len(names)} configurations, seed 0\n')
    print('| config | ' + ' | '.join(['val_auc', 'val_nll', 'val_brier', 'val_acc', 'shift_auc', 'shift_nll', 'patient_auc', 'patient_nll', 'test_auc', 'test_acc']) + ' |')
    print('|---' * 11 + '|')
    for n in names:
        c = rows[n]['crit']; g = lambda k, s=1: f"{s * c[k]:.4f}" if k in c else '-'
        print(f"| {n} | {g('val_auc')} | {g('val_nll', -1)} | {g('val_brier', -1)} | {g('val_acc')} | {g('shift_auc')} | {g('shift_nll', -1)} | "
              f"{g('patient_auc')} | {g('patient_nll', -1)} | {rows[n]['test_auc']:.4f} | {rows[n]['test_acc']:.4f} |")
    print('\n| criterion (higher = better; losses negated) | rho test AUC (p) | rho test ACC (p) | picks | its test AUC | its test ACC |')
    print('|---|---|---|---|---|---|')
    for k, e in res['single'].items():
        print(f"| {k} | {e['test_auc']['rho']:+.2f} ({e['test_auc']['p']:.3f}) | {e['test_acc']['rho']:+.2f} ({e['test_acc']['p']:.3f}) | "
              f"{e['pick']} | {e['pick_test_auc']:.4f} | {e['pick_test_acc']:.4f} |")
    best = max(names, key=lambda n: rows[n]['test_auc'])
    print(f"\n(best test AUC: {best} {rows[best]['test_auc']:.4f}; best test ACC: "
          f"{max(rows[n]['test_acc'] for n in names):.4f})")
    aug = [n for n in names if rows[n]['cfg_affine'] > 0]
    if len(aug) >= 5:   # diagnostic: inside the family the search explores (affine + intensity augmentation)
        print(f"\n### Within the augmented family ({len(aug)} configurations with affine augmentation: {', '.join(aug)})\n")
        print('| criterion | rho test AUC | rho test ACC | picks | its test AUC |'); print('|---|---|---|---|---|')
        fam = corr_table(['test_auc', 'test_acc'], aug); res['augmented_family'] = dict(configs=aug, corr=fam)
        for k in ('val_auc', 'val_nll', 'shift_auc', 'shift_nll', 'patient_auc', 'patient_nll'):
            e = fam[k]; print(f"| {k} | {e['test_auc']['rho']:+.2f} | {e['test_acc']['rho']:+.2f} | {e['pick']} | {e['pick_test_auc']:.4f} |")
        with open(os.path.join(OUT, f'analysis_tta{tta}.json'), 'w') as f: json.dump(res, f, indent=1)
    if 'two_seeds' in res:
        t = res['two_seeds']
        print(f"\n## Two seeds (0, 1): {len(t['configs'])} configurations\n")
        print('| criterion | rho mean test AUC | rho mean test ACC | rho ens test AUC | rho ens test ACC | picks | its mean test AUC | its mean test ACC |')
        print('|---|---|---|---|---|---|---|---|')
        for k, e in t['corr'].items():
            print(f"| {k} | {e['mean2_test_auc']['rho']:+.2f} | {e['mean2_test_acc']['rho']:+.2f} | {e['ens2_test_auc']['rho']:+.2f} | "
                  f"{e['ens2_test_acc']['rho']:+.2f} | {e['pick']} | {e['pick_mean2_test_auc']:.4f} | {e['pick_mean2_test_acc']:.4f} |")

def seed_means():
    """Single seed vs mean over seeds, on the issue-8 logs (logs/results.jsonl: 2-3 seeds per configuration, no TTA,
    the old 4-copy `valshift`): does averaging a criterion over seeds rank configurations more like test?"""
    rows = {}
    for l in open(os.path.join(HERE, 'logs', 'results.jsonl')):
        r = json.loads(l); n = {'L_ep20_s2': 'L_ep20'}.get(r['name'], r['name'])
        if n in ('best', 'H_big'): continue            # 'best' repeats E_cw_aff_int bit for bit; H_big has one seed
        rows.setdefault(n, {})[r['seed']] = r
    names = sorted(n for n in rows if 0 in rows[n] and len(rows[n]) >= 2)
    crit = {'val_auc': ('val', 'auc', 1), 'val_nll': ('val', 'nll', -1), 'val_acc': ('val', 'acc', 1),
            'valshift4_auc': ('valshift', 'auc', 1), 'valshift4_nll': ('valshift', 'nll', -1)}
    mt = {t: [np.mean([r['test'][t] for r in rows[n].values()]) for n in names] for t in ('auc', 'acc')}
    out = {}
    for k, (sp, m, sg) in crit.items():
        one = [sg * rows[n][0][sp][m] for n in names]
        avg = [sg * np.mean([r[sp][m] for r in rows[n].values()]) for n in names]
        out[k] = {'seed0': {t: float(spearmanr(one, mt[t])[0]) for t in mt}, 'seed_mean': {t: float(spearmanr(avg, mt[t])[0]) for t in mt}}
    print(f"\n## Seed 0 vs mean over seeds (issue-8 logs, {len(names)} configurations: {', '.join(names)}; target: mean test over the same seeds, no TTA)\n")
    print('| criterion | rho AUC, seed 0 | rho AUC, seed mean | rho ACC, seed 0 | rho ACC, seed mean |'); print('|---|---|---|---|---|')
    for k, e in out.items():
        print(f"| {k} | {e['seed0']['auc']:+.2f} | {e['seed_mean']['auc']:+.2f} | {e['seed0']['acc']:+.2f} | {e['seed_mean']['acc']:+.2f} |")
    with open(os.path.join(OUT, 'analysis_seed_means.json'), 'w') as f: json.dump(dict(configs=names, n_seeds={n: sorted(rows[n]) for n in names}, corr=out), f, indent=1)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--tta', type=int, default=2, choices=[1, 2])
    main(ap.parse_args().tta); seed_means()
