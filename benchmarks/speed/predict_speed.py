"""Prediction speed: `predict_arrays` against a plain forward pass, and the start-up time of the console scripts.

Usage:  python benchmarks/speed/predict_speed.py [--arch pneumo_resnet] [--repeats 7] [--threads 1] [--startup-repeats 3] [--out FILE]

1. Throughput. On the 624 official PneumoniaMNIST test images (28 px, uint8), with a registry model (untrained
   weights: speed does not depend on them) in eval mode:
   - plain: `model(x)` under `torch.inference_mode()` on the already preprocessed float tensor (the
     `to_model_input` output, computed once, outside the timing), in batches of `--bs`;
   - predict_arrays: `pneumo_nb.evaluate.predict_arrays(model, x_uint8, batch, bs)` from the uint8 arrays, so its time
     includes the preprocessing, the batching and the probability.
   Runs alternate (plain first in even repeats), the ratio plain_time / predict_time is taken per repeat (1.0: as
   fast as the plain pass; the target is >= 0.9) and the median is printed. No TTA on either side.
2. Start-up. Wall time of `--help` of pneumo_train, pneumo_evaluate, pneumo_predict, pneumo_reproduce (and
   pneumo_export / pneumo_search when installed), each as a ratio to `python -c "import torch"`, median of
   `--startup-repeats` interleaved runs; and scoring one Kaggle X-ray (224 px copy) with `pneumo_predict`, from an exported
   ONNX model and from the run folder (a 1-epoch run trained for the purpose in a temporary folder, removed after).
Results are printed and written to benchmarks/speed/predict_speed.txt. Timing: `timing.py` of this folder.
"""
import argparse, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, torch

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--arch', default='pneumo_resnet')
p.add_argument('--bs', type=int, default=256)
p.add_argument('--repeats', type=int, default=7)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--startup-repeats', type=int, default=3)
p.add_argument('--out', default=str(Path(__file__).parent/'predict_speed.txt'))
a = p.parse_args()
torch.set_num_threads(a.threads)

from pneumo_nb.core import set_seed
from pneumo_nb.data import load_pneumoniamnist, to_model_input
from pneumo_nb.models import get_model
from pneumo_nb.evaluate import predict_arrays
from timing import timed, alternate, ratios, median, per_round, Report

out = Report(f"# benchmarks/speed/predict_speed.py --arch {a.arch} --bs {a.bs} --repeats {a.repeats} --threads {a.threads}",
             f"# torch {torch.__version__}, {os.cpu_count()} CPUs visible, {a.threads} torch thread(s)")

set_seed(0)
x, y = load_pneumoniamnist('test')
batch = dict(img_size=28, n_ch=1, mean=[float(x.mean() / 255)], std=[float(x.std() / 255)], tta=None)
model = get_model(a.arch, n_in=1, img_size=28).eval()
xt = to_model_input(x, batch).as_subclass(torch.Tensor)

def plain():
    with torch.inference_mode():
        return torch.cat([model(xt[i:i + a.bs]) for i in range(0, len(xt), a.bs)])
def ours(): return predict_arrays(model, x, batch, bs=a.bs, device='cpu')

plain(); ours()   # warm-up
tp, to = alternate(lambda k: timed(plain)[0], lambda k: timed(ours)[0], a.repeats)
rs = ratios(tp, to)
n = len(x)
out(f"throughput on {n} PneumoniaMNIST test images, {a.arch}, batch {a.bs}:")
out(f"  plain model(x) on preprocessed tensors: median {median(tp):.3f} s ({n / median(tp):,.0f} images/s)")
out(f"  predict_arrays from uint8 arrays:       median {median(to):.3f} s ({n / median(to):,.0f} images/s)")
out(f"  throughput ratio predict_arrays / plain: {median(rs):.3f} (per repeat: {per_round(rs)}; target >= 0.9)")

cmds = {'python -c "import torch"': [sys.executable, '-c', 'import torch']}
for c in ('pneumo_train', 'pneumo_evaluate', 'pneumo_predict', 'pneumo_reproduce', 'pneumo_export', 'pneumo_search'):
    exe = shutil.which(c) or (str(Path(sys.executable).parent/c) if (Path(sys.executable).parent/c).exists() else None)
    if exe: cmds[f'{c} --help'] = [exe, '--help']
    else: out(f"  ({c} is not installed: skipped)")
import tempfile
tmpd = Path(tempfile.mkdtemp())
bin_ = Path(sys.executable).parent
one = sorted((Path(os.environ.get('PNEUMO_DATA', '../shared/data'))/'chest_xray_224'/'test'/'PNEUMONIA').iterdir())[0]
subprocess.run([str(bin_/'pneumo_train'), '--preset', 'default', '--epochs', '1', '--train_limit', '256', '--out', str(tmpd/'run'),
                '--quiet'], check=True)
subprocess.run([str(bin_/'pneumo_export'), str(tmpd/'run'), '--quiet'], check=True)
cmds['pneumo_predict, 1 X-ray, ONNX model'] = [str(bin_/'pneumo_predict'), '--model', str(tmpd/'run'/'model.onnx'), str(one)]
cmds['pneumo_predict, 1 X-ray, run folder'] = [str(bin_/'pneumo_predict'), '--model', str(tmpd/'run'), str(one)]
def run(cmd):
    dt, r = timed(lambda: subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    return dt, r.returncode
times = {k: [] for k in cmds}
for r in range(a.startup_repeats):
    for k, cmd in (cmds.items() if r % 2 == 0 else reversed(list(cmds.items()))):
        dt, rc = run(cmd); times[k].append(dt if rc == 0 else float('nan'))
base = median(times['python -c "import torch"'])
out(f"start-up (median of {a.startup_repeats} interleaved runs), wall seconds and ratio to `import torch`:")
for k, ts in times.items():
    m = median(ts)
    out(f"  {k:32s} {m:6.2f} s   x{m / base:.2f}")
shutil.rmtree(tmpd, ignore_errors=True)
out.write(a.out)
