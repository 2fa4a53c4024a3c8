"""The picture for the docs: distributions of `ood_score` (v2) for training, validation (plain and shifted), the Kaggle
test copies, and the non-X-rays, with the threshold (score 1) drawn. Writes benchmarks/ood/out/ood_scores.png."""
from pathlib import Path
import numpy as np, pandas as pd
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt

OUT = Path(__file__).parent/'out'

def groups(name):
    d = dict(np.load(OUT/name/'distances_v2.npz'))
    h = pd.concat([pd.read_csv(OUT/name/f) for f in ('scores_heldout_v2.csv', 'scores_dev_v2.csv', 'scores_heldout2_v2.csv')])
    h = h[~h.refused]
    g = {'train': d['train'], 'valid': d['valid'],
         'valid, shifted': np.concatenate([v for k, v in d.items() if k.startswith('valid+')]),
         'Kaggle test 64 px': h.ood_score[h.group == 'xray: Kaggle test 64 px'].values,
         'Kaggle test 224 px': h.ood_score[h.group == 'xray: Kaggle test 224 px'].values,
         'non-X-rays (scored)': h.ood_score[h.group.str.startswith('non-xray')].values}
    return g

def main():
    fig, axs = plt.subplots(1, 2, figsize=(12, 4), sharey=False)
    for ax, name in zip(axs, ('pneumoniamnist-28', 'chest-xray-64')):
        g = groups(name)
        bins = np.logspace(-1.2, 1.6, 60)
        for k, v in g.items():
            ax.hist(np.clip(v, bins[0], bins[-1]), bins=bins, density=True, histtype='step', lw=1.5, label=f'{k} ({len(v)})')
        ax.axvline(1, color='k', ls='--', lw=1); ax.text(1.05, ax.get_ylim()[1] * 0.9, 'threshold', fontsize=9)
        ax.set_xscale('log'); ax.set_xlabel('ood_score (distance / threshold; > 1 flagged)'); ax.set_title(name)
    axs[0].set_ylabel('density'); axs[1].legend(fontsize=8)
    fig.tight_layout(); fig.savefig(OUT/'ood_scores.png', dpi=60)

if __name__ == '__main__': main()
