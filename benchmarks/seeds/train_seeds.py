"""Train one recipe with seeds 0, 1, 2 through the library's `pneumo_nb.search.run_seeds` (each seed a full run folder whose
test split is read once and recorded in its ledger), then write the mean and std over seeds.

    PNEUMO_DATA=../shared/data python benchmarks/seeds/train_seeds.py [--preset chest_xray_best] [--dataset folder]
        [--data ../shared/data/chest_xray_64] [--size 64] [--seeds 0 1 2] [--crop 0.8] [--split_seed 0] [--out FOLDER]
    PNEUMO_DATA=../shared/data python benchmarks/seeds/train_seeds.py --from_study benchmarks/research/search/pmnist28 \
        --dataset pneumoniamnist --size 28 --out benchmarks/seeds/best_28px_again   # the configuration a stored study chose

Each seed writes the run folder OUT/seed<S> (config, split, model, per-image predictions, metrics with 95% CIs, figures,
ledger); `run_seeds` keeps its jobs in OUT/seeds.journal, trains only the seeds nobody has finished (a finished seed's test
split was read already) and lets several processes or machines share the work. OUT defaults to
benchmarks/seeds/<preset>_<size>px[_crop<C>]. The summary (mean and std over seeds, train seconds per seed, the equivalent
`pneumo_train` command lines) goes to OUT/summary.json and OUT/summary.md; an existing summary is kept unless
--rewrite_summary (the committed seed folders are records).

This one script replaces the four ways the seeds used to be trained (`benchmarks/quality.py`, `benchmarks/chest_xray_seeds.py`,
`benchmarks/research/final_seeds.py`, and `run_seeds`); the folders they wrote are kept as they were (see README.md).
"""
import argparse, json, datetime
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent
KEYS = ('auc', 'accuracy', 'sensitivity', 'specificity', 'balanced_accuracy', 'f1')

def study_config(folder) -> dict:
    "The configuration a stored Optuna study chose (`pneumo_nb.search.best_config`), from its folder `.../<study_name>`."
    import optuna
    from pneumo_nb.search import open_storage, best_config
    folder = Path(folder)
    return best_config(optuna.load_study(study_name=folder.name, storage=open_storage(None, folder)))

def command(a, s:int, run:Path) -> str:
    "The `pneumo_train` command line that trains the same seed (with --preset; a study's configuration has no such line)."
    if a.from_study: return f'run_seeds(best_config of {a.from_study}, seeds={a.seeds}) seed {s}'
    return ' '.join(['pneumo_train', '--dataset', a.dataset, *(['--data', a.data] if a.data else []), '--size', str(a.size),
                     '--preset', a.preset, '--seed', str(s), *(['--crop', f'{a.crop:g}'] if a.crop is not None else []),
                     *(['--split_seed', str(a.split_seed)] if a.split_seed is not None and a.split_seed != s else []), '--out', str(run)])

def summarise(a, res:Path) -> tuple:
    "summary.json and summary.md of the seed runs in `res`."
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
    cmds = {str(s): dict(command=command(a, s, res/f'seed{s}')) for s in a.seeds}
    summary = dict(preset=a.preset if not a.from_study else None, from_study=a.from_study, size=a.size, crop=a.crop, dataset=a.dataset,
                   data=a.data, seeds=a.seeds, metrics=rows, commands=cmds, trained_by='pneumo_nb.search.run_seeds',
                   ci95={s: ms[s]['ci95'] for s in a.seeds}, config=recs[a.seeds[0]]['config'],
                   threshold_rule=ms[a.seeds[0]].get('threshold_rule'),
                   test_reads={s: (res/f'seed{s}'/'test_reads.jsonl').read_text().count('\n') for s in a.seeds},
                   written=datetime.datetime.now().isoformat(timespec='seconds'))
    title = a.preset if not a.from_study else f'the configuration chosen by {a.from_study}'
    md = [f'# {title} at {a.size} px' + (f', crop {a.crop:g}' if a.crop is not None else '') + f' ({a.dataset}): seeds {", ".join(map(str, a.seeds))}', '',
          'Mean ± std over seeds on the test images (each seed\'s run folder has the per-seed 95% bootstrap CIs in metrics.json).', '',
          '| metric | mean ± std | per seed |', '|---|---|---|']
    md += [f"| {k} | {v['mean']:.3f}" + (f" ± {v['std']:.3f}" if 'std' in v and len(a.seeds) > 1 else '') + f" | {', '.join(f'{x:.3f}' for x in v['per_seed'])} |"
           for k, v in rows.items()]
    md += ['', 'Trained by `pneumo_nb.search.run_seeds` (benchmarks/seeds/train_seeds.py); each seed as:', ''] + \
          [f"- seed {s}: `{c['command']}`" for s, c in cmds.items()]
    return summary, '\n'.join(md) + '\n'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='chest_xray_best', help='a preset of pneumo_nb.train.PRESETS')
    ap.add_argument('--from_study', default=None, help="a stored study's folder (.../<study_name>): train the configuration it chose instead of --preset")
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--dataset', default='folder'); ap.add_argument('--data', default='../shared/data/chest_xray_64')
    ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--crop', type=float, default=None, help="central share of each side kept (default: the preset's)")
    ap.add_argument('--split_seed', type=int, default=None, help='seed of the validation split shared by all seeds (default: each seed its own)')
    ap.add_argument('--n_boot', type=int, default=1000, help="bootstrap resamples of each run's 95%% intervals")
    ap.add_argument('--out', default=None, help='folder of the seed runs (default: benchmarks/seeds/<preset>_<size>px[_crop<C>])')
    ap.add_argument('--rewrite_summary', action='store_true', help='write summary.json/.md even where they exist')
    a = ap.parse_args()
    if a.dataset == 'pneumoniamnist' and a.data == ap.get_default('data'): a.data = None   # found through $PNEUMO_DATA
    res = Path(a.out) if a.out else HERE/(f'{a.preset}_{a.size}px' + (f'_crop{a.crop:g}' if a.crop is not None else ''))
    if all((res/f'seed{s}'/'metrics.json').is_file() for s in a.seeds):
        print(f'{res}: every seed is finished (their test splits were read already); not training again')
    else:
        from pneumo_nb.search import run_seeds
        cfg = study_config(a.from_study) if a.from_study else a.preset
        run_seeds(cfg, seeds=a.seeds, out=res, n_boot=a.n_boot, dataset=a.dataset, data=a.data, size=a.size, crop=a.crop,
                  split_seed=a.split_seed, **({'study_name': f'seeds_{Path(a.from_study).name}'} if a.from_study else {}))
    summary, md = summarise(a, res)
    if (res/'summary.json').is_file() and not a.rewrite_summary: print(f'{res}/summary.json exists: kept (--rewrite_summary to replace it)')
    else:
        (res/'summary.json').write_text(json.dumps(summary, indent=1, default=float))
        (res/'summary.md').write_text(md)
    print(md)

if __name__ == '__main__': main()
