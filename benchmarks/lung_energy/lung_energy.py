"""Issue 13: where the models look, as numbers. For each run folder, `pneumo_nb.runs.explain_run` computes Grad-CAM maps of
every image of a split, the share of their energy in the central box versus the 10% border band, and the deletion
curves: Grad-CAM order against two controls, another image's map (`pneumo_nb.heatmaps.shuffled_maps`: deleted in the same
kind of patches) and a random pixel order (scattered holes). The shuffled control was added after an earlier run of this
script (validation and test) showed Grad-CAM losing to the random pixel order for some seeds of chest_xray_best; both
controls are reported.

    PNEUMO_DATA=../shared/data python benchmarks/lung_energy/lung_energy.py --runs NAME=RUN [NAME=RUN ...] [--splits valid test]
    PNEUMO_DATA=../shared/data python benchmarks/lung_energy/lung_energy.py --baselines   # first train the two earlier recipes (seed 0)

--baselines trains, when their folders are missing, the two earlier recipes on chest_xray_64 into benchmarks/lung_energy/runs/:
`fast` (what `pneumo_train --dataset chest_xray` trained before `chest_xray_best`) and report 004's CNN_94 as the reduced
reproduction row runs it (64 px, 6 epochs, balancing by augmentation), and adds them to --runs.

The validation numbers are the ones to choose a fix on; the test numbers are reported (each test read is recorded in
the run's test_reads.jsonl). Writes benchmarks/lung_energy/lung_energy.csv and .md, and one heatmap figure per run of the same
six test images (3 NORMAL, 3 PNEUMONIA, picked by a seeded draw, not by their maps): lung_energy_<NAME>.png.
"""
import argparse
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent

def _rel(p) -> str:
    "A folder relative to the repository root when it is inside it (no machine paths in the tables)."
    p = Path(p).resolve()
    return str(p.relative_to(HERE.parent.parent)) if p.is_relative_to(HERE.parent.parent) else str(p)

def baselines(data) -> list:
    "Train the earlier recipes (seed 0) where their run folders are missing; their NAME=RUN pairs."
    import subprocess, sys
    from pneumo_nb.runs import train_and_report
    from pneumo_nb.reproduce import REPRODUCTIONS
    runs = HERE/'runs'
    fast = runs/'chest_xray_fast_64px_seed0'
    if not (fast/'metrics.json').is_file():
        subprocess.run([str(Path(sys.executable).parent/'pneumo_train'), '--dataset', 'folder', '--data', data, '--size', '64',
                        '--preset', 'fast', '--seed', '0', '--out', str(fast), '--quiet'], check=True)
    cnn = runs/'chest_xray_cnn94_reduced_64px_seed0'
    if not (cnn/'metrics.json').is_file():
        e = next(e for e in REPRODUCTIONS if e['run'] == '004_cnn94')
        train_and_report(e['preset'], cnn, progress='quiet', dataset='folder', data=data, size=e['size'], arch=e['arch'],
                         seed=0, **{'pretrained': False, **e['config']})
    return [f'fast_64px={fast}', f'cnn94_reduced_64px={cnn}']

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', nargs='*', default=[], help='NAME=RUN_FOLDER pairs')
    ap.add_argument('--baselines', action='store_true', help='train (if missing) and add the two earlier recipes')
    ap.add_argument('--data', default='../shared/data/chest_xray_64')
    ap.add_argument('--splits', nargs='+', default=['valid', 'test'])
    ap.add_argument('--out', default=str(HERE))
    a = ap.parse_args()
    import pandas as pd, matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from pneumo_nb.runs import explain_run
    from pneumo_nb.heatmaps import show_heatmaps
    from pneumo_nb.evaluate import md_table
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    if a.baselines: a.runs = baselines(a.data) + a.runs
    rows = []
    for spec in a.runs:
        name, run = spec.split('=', 1)
        for split in a.splits:
            ex = explain_run(run, split)
            pi = ex['per_image']
            rows.append(dict(run=name, split=split, n=ex['n'], centre_share=ex['centre_share'], border_share=ex['border_share'],
                             border_area=ex['area_border'], border_density=ex['border_density'],
                             border_share_normal=pi.border[pi.label == 0].mean(), border_share_pneumonia=pi.border[pi.label == 1].mean(),
                             deletion_auc_gradcam=ex['deletion_auc'], deletion_auc_shuffled=ex['shuffled_deletion_auc'],
                             deletion_auc_random=ex['random_deletion_auc'], folder=_rel(run)))
            print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in rows[-1].items()}, flush=True)
            if split == 'test':
                y = ex['per_image'].label.values
                rng = np.random.default_rng(0)
                idx = np.r_[rng.choice(np.flatnonzero(y == 0), 3, replace=False), rng.choice(np.flatnonzero(y == 1), 3, replace=False)]
                fig = show_heatmaps(ex['images'][idx], ex['heats'][idx], y[idx], ex['per_image'].prob.values[idx], threshold=ex['threshold'],
                                    names=[Path(i).name for i in ex['per_image'].item.values[idx]])
                fig.suptitle(f"{name}: Grad-CAM of each image's predicted class; border share of the heat on all "
                             f"{ex['n']} test images {ex['border_share']:.3f} (the band is {ex['area_border']:.0%} of the pixels)", fontsize=8)
                fig.savefig(out/f'lung_energy_{name}.png', dpi=72); plt.close(fig)
    df = pd.DataFrame(rows)
    df.to_csv(out/'lung_energy.csv', index=False)
    show = df.drop(columns='folder').round(3)
    (out/'lung_energy.md').write_text(
        '# Where the models look: Grad-CAM energy in the centre and in the border band\n\n'
        '`benchmarks/lung_energy/lung_energy.py` (`pneumo_nb.runs.explain_run`): Grad-CAM of each image\'s predicted class on every image of the split; '
        '`border_share` is the mean share of a map\'s energy in the 10% border band, `border_density` that share divided by the band\'s '
        'share of the pixels (1: as much heat per pixel as a uniform map). Deletion AUC: mean confidence while the hottest pixels '
        'are replaced by a blurred copy (lower: the map points at what the decision depends on), beside two controls: each image '
        'deleted in the order of another image\'s map (`shuffled`, the same patchy shape of deletion) and in a random pixel order.\n\n'
        + md_table(show, index=False) + '\n\nRun folders: ' + ', '.join(f'{r.run} = `{r.folder}`' for r in df.drop_duplicates('run').itertuples()) + '\n')
    print(md_table(show, index=False))

if __name__ == '__main__': main()
