"""Issue 13: the Kaggle folder recipe, trained from scratch with seeds 0, 1, 2, each through `pneumo_train` exactly as a user
types it, each test split read once (the run folder's test_reads.jsonl).

    PNEUMO_DATA=../shared/data python benchmarks/chest_xray_seeds.py [--preset chest_xray_best] [--data ../shared/data/chest_xray_64]
                                                                     [--size 64] [--seeds 0 1 2] [--crop 0.8] [--split_seed 0]
                                                                     [--name FOLDER]

Each seed writes the run folder benchmarks/results/<preset>_<size>px[_crop<C>]/seed<S> (config, split, model, per-image predictions,
metrics with 95% CIs, figures, ledger); a seed whose folder exists is not trained again (its test split was read already).
The summary (mean and std over seeds, wall time per seed, the command lines) goes to
benchmarks/results/<preset>_<size>px[_crop<C>]/summary.json and summary.md.
"""
import argparse, json, subprocess, sys, time, datetime
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent
KEYS = ('auc', 'accuracy', 'sensitivity', 'specificity', 'balanced_accuracy', 'f1')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='chest_xray_best'); ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--data', default='../shared/data/chest_xray_64'); ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--dataset', default='folder')
    ap.add_argument('--crop', type=float, default=None, help="central share of each side kept (default: the preset's)")
    ap.add_argument('--split_seed', type=int, default=None, help='seed of the validation split shared by all seeds (default: each seed its own)')
    ap.add_argument('--name', default=None, help='results folder name (default: <preset>_<size>px[_crop<C>])')
    a = ap.parse_args()
    res = HERE/'results'/(a.name or (f'{a.preset}_{a.size}px' + (f'_crop{a.crop:g}' if a.crop is not None else ''))); res.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).parent/'pneumo_train'
    log = json.loads((res/'summary.json').read_text())['commands'] if (res/'summary.json').is_file() else {}
    for s in a.seeds:
        run = res/f'seed{s}'
        if (run/'metrics.json').is_file(): print(f'{run} exists: its test split was read already; not training again'); continue
        cmd = [str(exe), '--dataset', a.dataset, '--data', a.data, '--size', str(a.size), '--preset', a.preset, '--seed', str(s),
               *(['--crop', str(a.crop)] if a.crop is not None else []),
               *(['--split_seed', str(a.split_seed)] if a.split_seed is not None and a.split_seed != s else []),
               '--out', str(run.relative_to(Path.cwd()) if run.is_relative_to(Path.cwd()) else run)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        log[str(s)] = dict(command=' '.join(['pneumo_train'] + cmd[1:]), wall_seconds=round(time.perf_counter() - t0, 1))
    ms = {s: json.loads((res/f'seed{s}'/'metrics.json').read_text()) for s in a.seeds}
    recs = {s: json.loads((res/f'seed{s}'/'run.json').read_text()) for s in a.seeds}
    rows = {}
    for part, name in (('test', 'at 0.5'), ('test_at_threshold', 'at the validation threshold')):
        for k in KEYS:
            if part == 'test_at_threshold' and k == 'auc': continue
            v = np.array([ms[s][part][k] for s in a.seeds])
            rows[f'test {k} {name}' if k != 'auc' else 'test AUC'] = dict(mean=v.mean(), std=v.std(ddof=1) if len(v) > 1 else 0.,
                                                                        per_seed=v.tolist())
    rows['validation AUC'] = dict(mean=np.mean([ms[s]['val']['auc'] for s in a.seeds]), per_seed=[ms[s]['val']['auc'] for s in a.seeds])
    rows['threshold (chosen on validation)'] = dict(mean=np.mean([ms[s]['threshold'] for s in a.seeds]),
                                                    per_seed=[ms[s]['threshold'] for s in a.seeds])
    rows['train seconds'] = dict(mean=np.mean([recs[s]['train_seconds'] for s in a.seeds]),
                                 per_seed=[recs[s]['train_seconds'] for s in a.seeds])
    summary = dict(preset=a.preset, size=a.size, crop=a.crop, dataset=a.dataset, data=a.data, seeds=a.seeds, metrics=rows, commands=log,
                   ci95={s: ms[s]['ci95'] for s in a.seeds}, config=recs[a.seeds[0]]['config'],
                   threshold_rule=ms[a.seeds[0]].get('threshold_rule'),
                   test_reads={s: (res/f'seed{s}'/'test_reads.jsonl').read_text().count('\n') for s in a.seeds},
                   written=datetime.datetime.now().isoformat(timespec='seconds'))
    (res/'summary.json').write_text(json.dumps(summary, indent=1, default=float))
    md = [f'# {a.preset} at {a.size} px' + (f', crop {a.crop:g}' if a.crop is not None else '') + f' on the Kaggle folders: seeds {", ".join(map(str, a.seeds))}', '',
          'Mean ± std over seeds on the 624 test images (each seed\'s run folder has the per-seed 95% bootstrap CIs in metrics.json).', '',
          '| metric | mean ± std | per seed |', '|---|---|---|']
    md += [f"| {k} | {v['mean']:.3f}" + (f" ± {v['std']:.3f}" if 'std' in v and len(a.seeds) > 1 else '') + f" | {', '.join(f'{x:.3f}' for x in v['per_seed'])} |"
           for k, v in rows.items()]
    md += ['', 'Commands:', ''] + [f"- seed {s}: `{c['command']}` ({c['wall_seconds']:.0f} s wall)" for s, c in sorted(log.items())]
    (res/'summary.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))

if __name__ == '__main__': main()
