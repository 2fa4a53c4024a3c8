"""How long one fine-tune of the local check takes at K = 128 (its fit share: 96 images; the declared recipe
`pneumo_nb.site.SITE_FINE_TUNE`), for each shipped model, on Kaggle *train* images (no site image is read).

    PNEUMO_DATA=../shared/data python benchmarks/site/speed.py [--threads 2] [--repeats 3]   # writes results/speed.json
The target (issue 36): at most 2 minutes on 2 CPU cores. The load average is recorded beside each time: a busy machine is slower.
"""
import argparse, json, os, time, platform
from pathlib import Path
import numpy as np, torch
from pneumo_nb.core import find_data
from pneumo_nb.data import tag_split
from pneumo_nb.decode import read_files
from pneumo_nb.runs import load_run, fine_tune_config
from pneumo_nb.train import fit_config
from pneumo_nb.site import site_items, site_split, SITE_FINE_TUNE

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--threads', type=int, default=2); ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    items = site_items(find_data('chest_xray_64')/'train')
    sp = site_split(items, 128, seed=0)            # the same split rule as a site run, on training images
    A = np.flatnonzero((sp.part == 'adapt').values); fold = sp.fold.values[A]
    out = dict(threads=a.threads, repeats=a.repeats, cpu=platform.processor() or platform.machine(), n_cpu=os.cpu_count(), recipe=SITE_FINE_TUNE, models={})
    for name in ('chest-xray-64', 'pneumoniamnist-28'):
        r = load_run(name)
        x, ok, _ = read_files(items.path.values[A], r.raw); y = sp.label.values[A]
        fit, hold = fold != 0, fold == 0
        times, loads = [], []
        for rep in range(a.repeats):
            cfg, net, _ = fine_tune_config(name, seed=rep, **SITE_FINE_TUNE)
            loads.append(os.getloadavg()[0]); t0 = time.perf_counter()
            fit_config(cfg, (tag_split(x[fit], 'train'), tag_split(y[fit], 'train'), tag_split(x[hold], 'valid'), tag_split(y[hold], 'valid')), progress='quiet', model=net)
            times.append(time.perf_counter() - t0)
        out['models'][name] = dict(fit_images=int(fit.sum()), hold_images=int(hold.sum()), seconds=[round(t, 1) for t in times],
                                   median_seconds=round(float(np.median(times)), 1), load_average_1min=[round(l, 1) for l in loads], target_seconds=120)
        print(name, out['models'][name], flush=True)
    Path(__file__).parent.joinpath('results', 'speed.json').write_text(json.dumps(out, indent=1))

if __name__ == '__main__': main()
