"""Issue 31: fit the OOD detector of each shipped model and measure flag rates per input group.

    PYTHONPATH=. nice -n 15 python benchmarks/ood/run.py --inputs /tmp/ood_inputs --stage dev      # design checks
    PYTHONPATH=. nice -n 15 python benchmarks/ood/run.py --inputs /tmp/ood_inputs --stage heldout  # once, rule frozen

Writes benchmarks/ood/out/<model>/{ood.npz, scores_<stage>.csv, distances.npz} and results_<stage>.md.
"""
import argparse, glob, os, sys, time, json
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).parent))
from ood_lib import fit_detector, read_files_checked, pooled_features, OODDetector, fit_multi, MultiDetector, component_features
from pneumo_nb.runs import load_run, recorded_data
from pneumo_nb.data import run_data, image_files

DATA = Path(os.environ.get('PNEUMO_DATA', '/work/shared/data'))
OUT = Path(__file__).parent/'out'

def kaggle(copy, split, n=None, seed=0):
    fs = sorted(glob.glob(str(DATA/copy/split/'*'/'*')))
    if n: fs = [fs[i] for i in sorted(np.random.default_rng(seed).choice(len(fs), n, replace=False))]
    return fs

def groups(stage, inputs:Path):
    g = {}
    if stage == 'dev':
        g['xray: Kaggle train 64 px (600)'] = ('xray', kaggle('chest_xray_64', 'train', 600))
        g['xray: Kaggle train 224 px (600)'] = ('xray', kaggle('chest_xray_224', 'train', 600))
        g['non-xray: synthetic'] = ('non', image_files(inputs/'dev_synthetic')[0])
    else:
        g['xray: Kaggle test 64 px'] = ('xray', kaggle('chest_xray_64', 'test'))
        g['xray: Kaggle test 224 px'] = ('xray', kaggle('chest_xray_224', 'test'))
        g['xray: full-resolution-like'] = ('xray', image_files(inputs/'heldout_xray_fullres')[0])
        g['xray: DICOM forms'] = ('xray', image_files(inputs/'heldout_xray_dicom')[0])
        for d in sorted((inputs/'heldout_packages').iterdir()): g[f'non-xray: {d.name}'] = ('non', image_files(d)[0])
    if stage == 'heldout2': g = {'non-xray: installed software (new)': ('non', image_files(inputs/'heldout2_software')[0])}
    return g

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--inputs', default='/tmp/ood_inputs'); ap.add_argument('--stage', default='dev'); ap.add_argument('--method', default='v1')
    ap.add_argument('--names', nargs='+', default=['pneumoniamnist-28', 'chest-xray-64'])
    a = ap.parse_args(); torch.set_num_threads(1)
    lines = [f"# OOD flag rates, stage {a.stage}\n", "| model | group | files | refused | flagged by check | flagged by score | flagged or refused | probe rule (raw val 99%) |",
             "|---|---|---|---|---|---|---|---|"]
    for name in a.names:
        r = load_run(name); src = r.record['source']; o = OUT/name; o.mkdir(parents=True, exist_ok=True)
        v2 = a.method in ('v2', 'lib'); sfx = '_v2' if a.method == 'v2' else '_lib' if a.method == 'lib' else ''
        if a.method == 'lib':   # the library (pneumo_nb.ood) and the detector shipped with the reference model
            import pneumo_nb.ood as L
            det, dist = L.MultiDetector.load(r.path/L.OOD_FILE), {'valid': np.zeros(1)}
            rfc, cf = L.read_files_checked, L.component_features
        else: rfc, cf = read_files_checked, component_features
        det_path = o/f'ood{sfx}.npz'
        t0 = time.time()
        if a.method == 'lib': pass
        elif v2:
            if det_path.is_file(): det = MultiDetector.load(det_path); dist = dict(np.load(o/'distances_v2.npz'))
            else:
                d = run_data(src['dataset'], recorded_data(src), r.record['config']['size'], raw=r.raw, split=r.split, splits=('train', 'valid'))
                (xt, yt), (xv, _) = d.xy('train'), d.xy('valid')
                det, dist = fit_multi(r.model, r.batch, np.asarray(xt), np.asarray(yt), np.asarray(xv), side=r.raw['size'],
                                      described=f"{name}: {len(xt)} training and {len(xv)} validation images of its recorded split")
                det.save(det_path); np.savez(o/'distances_v2.npz', **dist)
                print(name, f'v2 fitted in {time.time() - t0:.0f} s', {k: round(p.threshold, 2) for k, p in det.parts.items()}, flush=True)
        elif det_path.is_file() and a.stage != 'dev': det = OODDetector.load(det_path); dist = dict(np.load(o/'distances.npz'))
        else:
            d = run_data(src['dataset'], recorded_data(src), r.record['config']['size'], raw=r.raw, split=r.split, splits=('train', 'valid'))
            (xt, yt), (xv, _) = d.xy('train'), d.xy('valid')
            det, dist = fit_detector(r.model, r.batch, np.asarray(xt), np.asarray(yt), np.asarray(xv), side=r.raw['size'],
                                     described=f"{name}: {len(xt)} training and {len(xv)} validation images of its recorded split")
            det.save(det_path); np.savez(o/'distances.npz', **dist)
            print(name, det, f'fitted in {time.time() - t0:.0f} s', json.dumps(det.info['quantiles'], indent=0), flush=True)
        probe = float(np.quantile(dist['valid'], 0.99)) if not v2 else 1.0
        rows = []
        for gname, (kind, files) in groups(a.stage, Path(a.inputs)).items():
            x, ok, skipped, notes = rfc(files, r.raw)
            if v2: s = det.score(cf(r.model, x, r.batch)) if len(x) else np.zeros(0); dd = s
            else:
                dd = det.distance(pooled_features(r.model, x, r.batch)) if len(x) else np.zeros(0)
                s = dd / det.threshold
            for f, n, sc, di in zip(ok, notes, s, dd): rows.append(dict(group=gname, path=f, refused=False, check=n, ood_score=sc, distance=di,
                                                                     ood=bool(n is not None or sc > 1), probe_flag=bool(di > probe)))
            for f, e in skipped: rows.append(dict(group=gname, path=f, refused=True, check=e.split(': ', 1)[-1][:120], ood_score=np.nan,
                                                  distance=np.nan, ood=True, probe_flag=True))
            n = len(files); nchk = sum(x is not None for x in notes); nsc = int(sum((m is None) and v > 1 for m, v in zip(notes, s)))
            tot = len(skipped) + int(sum((m is not None) or v > 1 for m, v in zip(notes, s)))
            pr = len(skipped) + int((dd > probe).sum())
            lines.append(f"| {name} | {gname} | {n} | {len(skipped)} | {nchk} | {nsc} | **{tot}/{n} = {tot / n:.1%}** | {pr / n:.1%} |")
            print(lines[-1], flush=True)
        pd.DataFrame(rows).to_csv(o/f'scores_{a.stage}{sfx}.csv', index=False)
        if not v2: lines.append(f"| {name} | threshold (distance) | {det.threshold:.2f} | | | | | probe {probe:.2f} |")
    lines[0] = f"# OOD flag rates, stage {a.stage}, method {a.method}\n"
    (OUT/f'results_{a.stage}_{a.method}.md').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))

if __name__ == '__main__': main()
