"""The timing helper the speed scripts of this folder share (`train_speed.py`, `predict_speed.py`, `onnx_speed.py`).

- `timed(f)`: wall seconds (`time.perf_counter`) of one call and its result;
- `alternate(fa, fb, n)`: `n` rounds of both callables, `fa` first in even rounds and `fb` first in odd ones, so that a drift in
  the load of a shared machine hits both sides alike; each callable gets the round number and the two lists of what they
  returned come back;
- `ratios(a, b)` per round and `median`;
- `Report`: lines printed as they come and written to a file at the end (the scripts' `--out`).
"""
import statistics, time
from pathlib import Path

median = statistics.median

def timed(f):
    "Wall seconds of one call of `f()` and what it returned."
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

def alternate(fa, fb, n:int):
    "Call `fa(k)` and `fb(k)` for k in range(n), `fa` first when k is even; their results as two lists."
    ra, rb = [], []
    for k in range(n):
        if k % 2 == 0: ra.append(fa(k)); rb.append(fb(k))
        else: rb.append(fb(k)); ra.append(fa(k))
    return ra, rb

def ratios(a, b) -> list:
    "Per-round ratios a[k] / b[k]."
    return [x / y for x, y in zip(a, b)]

def per_round(rs) -> str: return ', '.join(f'{r:.2f}' for r in rs)

class Report:
    "Lines printed as they come; `write(path)` saves them all."
    def __init__(self, *header): self.lines = list(header)
    def __call__(self, s): print(s, flush=True); self.lines.append(s)
    def write(self, path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text('\n'.join(self.lines) + '\n')
        print(f'written to {path}')
