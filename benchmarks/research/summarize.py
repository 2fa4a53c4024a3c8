"""Compact table (mean±std over seeds) from logs/results.jsonl. Usage: python summarize.py [--md]"""
import json, sys, collections, numpy as np
rows = collections.OrderedDict()
for l in open(__file__.rsplit('/', 1)[0] + '/logs/results.jsonl'):
    r = json.loads(l)
    r['name'] = {'L_ep20_s2': 'L_ep20'}.get(r['name'], r['name'])   # seed 2 of L_ep20 ran in parallel under its own log name
    rows.setdefault(r['name'], []).append(r)
md = '--md' in sys.argv
cols = [('val', 'auc'), ('val', 'acc'), ('val', 'sens'), ('val', 'spec'), ('val', 'nll'), ('valshift', 'auc'), ('valshift', 'acc'), ('test', 'auc'), ('test', 'acc'), ('test', 'sens'), ('test', 'spec'),
        ('test_tta', 'auc'), ('test_tta', 'acc')]
hdr = ['name', 'seeds', 's/seed', 'cpu_s'] + [f'{a}.{b}' for a, b in cols]
print(('| ' + ' | '.join(hdr) + ' |') if md else '  '.join(hdr))
if md: print('|' + '---|' * len(hdr))
for n, rs in rows.items():
    def ms(a, b):
        v = [r[a][b] for r in rs if a in r]
        return f'{np.mean(v):.3f}±{np.std(v):.3f}' if v else '-'
    cells = [n, ','.join(str(r['seed']) for r in rs), f"{np.mean([r['time'] for r in rs]):.0f}", f"{np.mean([r.get('cpu', np.nan) for r in rs]):.0f}"] + [ms(a, b) for a, b in cols]
    print(('| ' + ' | '.join(cells) + ' |') if md else '  '.join(cells))
