"""Issue 23 part 3: seed ensembles beside their members, from the run folders' stored predictions.

    python benchmarks/ensembles/ensemble_rows.py                             # the committed seed runs (below)
    python benchmarks/ensembles/ensemble_rows.py --group NAME RUN1 RUN2 RUN3 [--group NAME2 RUN ...] [--out benchmarks/ensembles/NAME]

For each group, `pneumo_nb.ensemble.Ensemble` checks that the runs share their preprocessing and validation split (else the
group is listed with the refusal), averages the members' stored validation probabilities and chooses the ensemble's threshold
on them with the package's rule; `Ensemble.stored_metrics` then averages the test probabilities each member stored when
`score_test` scored it (no image is read, no weights are needed) and records that look at the test split in
OUT_reads/test_reads.jsonl. The members' own rows come from their metrics.json. Writes OUT.md and OUT.json
(default OUT: benchmarks/ensembles/best_28px_and_chest_xray_v1). Whether ensembles enter the headline was decided before this ran:
benchmarks/research/DECISIONS_issue23.md (they do not).
"""
import argparse, json, os, datetime
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent   # the repository
DEFAULT_GROUPS = {   # every committed group of seed runs of one recipe
    'PneumoniaMNIST 28 px, best (search_best seeds 0-2)': [f'benchmarks/seeds/best_28px/seed{s}' for s in (0, 1, 2)],
    'Kaggle folders 64 px, chest_xray_best (seeds 0-2)': [f'benchmarks/seeds/chest_xray_v1_64px/seed{s}' for s in (0, 1, 2)],
    'Kaggle folders 64 px, chest_xray_best crop 0.8 (seeds 0-2)': [f'benchmarks/seeds/chest_xray_v1_64px_crop0.8/seed{s}' for s in (0, 1, 2)],
    'Kaggle folders 28 px, chest_xray_best (seeds 0-2)': [f'benchmarks/seeds/chest_xray_v1_28px/seed{s}' for s in (0, 1, 2)],
    'Kaggle folders 128 px, chest_xray_best (seeds 0-2)': [f'benchmarks/seeds/chest_xray_v1_128px/seed{s}' for s in (0, 1, 2)],
    'Kaggle folders 28 px, fast (seeds 0-2)': [f'benchmarks/seeds/fast_28px/seed{s}' for s in (0, 1, 2)],
}
COLS = [('AUC', 'test', 'auc'), ('ACC@0.5', 'test', 'accuracy'), ('sens@0.5', 'test', 'sensitivity'), ('spec@0.5', 'test', 'specificity'),
        ('ACC@thr', 'test_at_threshold', 'accuracy'), ('sens@thr', 'test_at_threshold', 'sensitivity'),
        ('spec@thr', 'test_at_threshold', 'specificity')]

def row(m:dict) -> dict:
    r = {c: m[part][k] for c, part, k in COLS}
    r.update(threshold=m['threshold'], val_auc=m['val']['auc'], fell_back='no threshold' in m.get('threshold_rule', ''))
    return r

def group(name:str, runs:list, ledger:Path, n_boot:int) -> dict:
    from pneumo_nb.ensemble import Ensemble, EnsembleError
    try: ens = Ensemble(runs)
    except EnsembleError as e: return dict(name=name, runs=runs, refused=str(e))
    members = {r: row(json.loads((Path(r)/'metrics.json').read_text())) for r in runs}
    m = ens.stored_metrics(ledger, n_boot=n_boot, caller=f'benchmarks/ensembles/ensemble_rows.py ({name})')
    keys = [c for c, _, _ in COLS] + ['threshold', 'val_auc']
    mean = {k: float(np.mean([members[r][k] for r in runs])) for k in keys}
    ci = {c: m['ci95'][part][k] for c, part, k in COLS}
    return dict(name=name, runs=runs, members=members, member_mean=mean, ensemble=row(m), ensemble_ci95=ci,
                gain={k: row(m)[k] - mean[k] for k in keys}, threshold_rule=m['threshold_rule'], n_test=m['test']['n'],
                n_valid=m['val']['n'])

def markdown(res:list, cmd:str) -> str:
    head = '| model | ' + ' | '.join(c for c, _, _ in COLS) + ' | threshold | val AUC |'
    lines = ['# Seed ensembles beside their members', '',
             f'`{cmd}` (benchmarks/ensembles/ensemble_rows.py). Test metrics on the test split; ACC@thr, sens@thr and spec@thr at the '
             'threshold chosen on the validation split (each member its own, the ensemble on its averaged validation '
             'probabilities, `pneumo_nb.evaluate.choose_threshold`: max balanced accuracy with validation sensitivity >= 0.95, '
             '* where no threshold reached it and the rule fell back). The ensemble averages the probabilities the members '
             'stored when their test split was scored (`Ensemble.stored_metrics`; the look is in the ledger beside this file); '
             'brackets: 95% percentile-bootstrap intervals. Ensembles are not in the headline '
             '(benchmarks/research/DECISIONS_issue23.md, decided before this ran). Not a diagnosis: research numbers on public data.', '']
    for g in res:
        lines += [f"## {g['name']}", '']
        if 'refused' in g:
            lines += ['Refused: ' + g['refused'], '']
            continue
        fmt = lambda r: ' | '.join(f'{r[c]:.3f}' for c, _, _ in COLS) + f" | {r['threshold']:.2f}{'*' if r.get('fell_back') else ''} | {r['val_auc']:.3f} |"
        lines += [head, '|---' * (len(COLS) + 3) + '|']
        lines += [f'| {r} | ' + fmt(v) for r, v in g['members'].items()]
        lines.append('| mean of the members | ' + fmt(g['member_mean']))
        e, ci = g['ensemble'], g['ensemble_ci95']
        lines.append('| **ensemble** | ' + ' | '.join(f'**{e[c]:.3f}** [{ci[c][0]:.3f}, {ci[c][1]:.3f}]' for c, _, _ in COLS) +
                     f" | {e['threshold']:.2f}{'*' if e['fell_back'] else ''} | {e['val_auc']:.3f} |")
        lines.append('| ensemble - mean | ' + ' | '.join(f"{g['gain'][c]:+.3f}" for c, _, _ in COLS) +
                     f" | {g['gain']['threshold']:+.2f} | {g['gain']['val_auc']:+.3f} |")
        lines += ['', f"{g['n_valid']} validation and {g['n_test']} test images; ensemble threshold: {g['threshold_rule']}.", '']
    return '\n'.join(lines)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--group', nargs='+', action='append', metavar=('NAME', 'RUN'),
                    help='a name and two or more run folders (or reference model names); repeat for more groups')
    ap.add_argument('--out', default=str(HERE/'best_28px_and_chest_xray_v1'), help='OUT.md, OUT.json and OUT_reads/ are written')
    ap.add_argument('--n_boot', type=int, default=1000)
    a = ap.parse_args()
    rel = lambda p: str(Path(p).resolve().relative_to(ROOT)) if Path(p).exists() and Path(p).resolve().is_relative_to(ROOT) else \
        str(Path(p).resolve()) if Path(p).exists() else str(p)   # run folders by their path in the repository; reference names as typed
    groups = {g[0]: [rel(r) for r in g[1:]] for g in a.group} if a.group else DEFAULT_GROUPS
    out = Path(a.out).resolve()
    os.chdir(ROOT)
    res = [group(n, runs, out.parent/f'{out.name}_reads', a.n_boot) for n, runs in groups.items()]
    cmd = 'python benchmarks/ensembles/ensemble_rows.py' + ''.join(f" --group '{n}' " + ' '.join(r) for n, r in groups.items()) * bool(a.group)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix('.json').write_text(json.dumps(dict(command=cmd, created=datetime.datetime.now().isoformat(timespec='seconds'),
                                                        n_boot=a.n_boot, groups=res), indent=1))
    md = markdown(res, cmd)
    out.with_suffix('.md').write_text(md + '\n')
    print(md)

if __name__ == '__main__': main()
