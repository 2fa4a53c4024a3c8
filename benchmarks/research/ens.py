"""Ensemble analysis from saved probabilities: python ens.py NAME seeds... (averages probs over the given seeds)"""
import sys, os, numpy as np
from recipe import load, metrics, fmt
d = load(); here = os.path.dirname(os.path.abspath(__file__))
name, seeds = sys.argv[1], [int(s) for s in sys.argv[2:]]
P = [np.load(f'{here}/logs/probs_{name}_s{s}.npz') for s in seeds]
yv, yt = d['val'][1].numpy(), d['test'][1].numpy()
r = {}
for k in ('val', 'valshift', 'test', 'val_tta', 'test_tta'):
    y = {'val': yv, 'valshift': np.tile(yv, 4), 'test': yt}[k.split('_')[0]]
    r[k] = metrics(np.mean([p[k] for p in P], 0), y)
print(f'ENSEMBLE {name} seeds {seeds} | {fmt(r)}')
