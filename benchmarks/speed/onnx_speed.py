"""PyTorch eager vs onnxruntime: throughput of the same model on the same images with the same batch size.

Usage:  python benchmarks/speed/onnx_speed.py [--archs pneumo_resnet pmnist_cnn] [--bs 256] [--repeats 7] [--threads 1] [--out FILE]

For each registry architecture (untrained weights, eval mode: speed does not depend on them) and the 624 official
PneumoniaMNIST test images (28 px, uint8):
- PyTorch: `pneumo_nb.evaluate.predict_arrays(model, x, batch, bs)` (preprocessing, model, probability; inference mode);
- onnxruntime: `pneumo_nb.export.OnnxModel(path).predict(x, bs)` on the model exported by `export_onnx` (the same
  preprocessing inside the graph), CPU execution provider, `--threads` intra-op threads (PyTorch gets the same).
Both see the same uint8 arrays and batch size; runs alternate (PyTorch first in even repeats); the ratio
onnxruntime images/s over PyTorch images/s is taken per repeat and the median printed, with the max abs difference of
the probabilities. Written to benchmarks/speed/onnx_speed.txt. Timing: `timing.py` of this folder.
"""
import argparse, os, tempfile
from pathlib import Path
import numpy as np, torch

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--archs', nargs='+', default=['pneumo_resnet', 'pmnist_cnn'])
p.add_argument('--bs', type=int, default=256)
p.add_argument('--repeats', type=int, default=7)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--out', default=str(Path(__file__).parent/'onnx_speed.txt'))
a = p.parse_args()
torch.set_num_threads(a.threads)

import onnxruntime
from pneumo_nb.core import set_seed
from pneumo_nb.data import load_pneumoniamnist
from pneumo_nb.models import get_model
from pneumo_nb.evaluate import predict_arrays
from pneumo_nb.export import export_onnx, OnnxModel
from timing import timed, alternate, ratios, median, per_round, Report

out = Report(f"# benchmarks/speed/onnx_speed.py --archs {' '.join(a.archs)} --bs {a.bs} --repeats {a.repeats} --threads {a.threads}",
             f"# torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, {os.cpu_count()} CPUs visible")

x, _ = load_pneumoniamnist('test')
batch = dict(img_size=28, n_ch=1, mean=[float(x.mean() / 255)], std=[float(x.std() / 255)], tta=None)
with tempfile.TemporaryDirectory() as d:
    for arch in a.archs:
        set_seed(0)
        model = get_model(arch, n_in=1, img_size=28).eval()
        om = OnnxModel(export_onnx(model, batch, Path(d)/arch), threads=a.threads)
        f_pt = lambda: predict_arrays(model, x, batch, bs=a.bs, device='cpu')
        f_ox = lambda: om.predict(x, bs=a.bs)
        _, p_pt = timed(f_pt); _, p_ox = timed(f_ox)   # warm-up
        tpt, tox = alternate(lambda k: timed(f_pt)[0], lambda k: timed(f_ox)[0], a.repeats)
        n, rs = len(x), ratios(tpt, tox)
        out(f"{arch}: {n} images, batch {a.bs}: PyTorch eager {n / median(tpt):,.0f} images/s, "
            f"onnxruntime {n / median(tox):,.0f} images/s, ratio onnxruntime/PyTorch "
            f"{median(rs):.2f} (per repeat {per_round(rs)}); "
            f"max |p_onnx - p_torch| = {np.abs(p_ox - p_pt).max():.1e}")
out.write(a.out)
