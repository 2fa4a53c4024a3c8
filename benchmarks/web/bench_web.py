"""Speed of the web page (issue 37): the page's time per image in headless Chromium (onnxruntime-web, wasm, one thread)
against onnxruntime in Python on the same graph and the same pixels, and the time from opening the page to its first
result (model loading included), measured in one run on this machine (each measure repeated, alternating page and Python).

    python benchmarks/web/bench_web.py [--data ../shared/data] [--n 24] [--repeats 3] [--out benchmarks/web/results.json]

Page per image: the median `session.run` time the page records per image (decoding and drawing not included). Python: the median `InferenceSession.run` time per
image on the pixels the page decoded, with 1 thread (as the page) and with onnxruntime's default threads."""
import argparse, json, platform, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[2]/'tools'))
from check_web import xrays, serve, run_page, MODELS

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default='../shared/data'); ap.add_argument('--n', type=int, default=24)
    ap.add_argument('--page', default='nbs/web'); ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--out', default='benchmarks/web/results.json')
    a = ap.parse_args()
    import onnxruntime as ort
    page = Path(a.page); files = xrays(Path(a.data), a.n)
    models = [m['name'] for m in json.loads((page/'models.json').read_text())['models']]
    srv, base = serve(page)
    from playwright.sync_api import sync_playwright
    # the page: files chosen as soon as it opens; every model scores all of them
    # each measure repeated `--repeats` times, alternating page and Python; the best median of each is kept (the CPU is shared)
    page_ms, py_ms, firsts = {m: [] for m in models}, {(m, t): [] for m in models for t in (1, 0)}, []
    for rep in range(a.repeats):
        res, inputs, reqs, first = run_page(base, files, models)
        firsts.append(first)
        for m in models:
            page_ms[m].append(np.median([r['ms'] for r in res[m]]))
            for threads in (1, 0):
                o = ort.SessionOptions(); o.intra_op_num_threads = threads
                s = ort.InferenceSession(str(page/'models'/m/'model.onnx'), o, providers=['CPUExecutionProvider'])
                xs = [inputs[Path(f).name][None] for f in files]
                s.run(None, {'images': xs[0]})   # warm-up, as the page's first image
                t = []
                for x in xs:
                    t0 = time.perf_counter(); s.run(None, {'images': x}); t.append(1000 * (time.perf_counter() - t0))
                py_ms[m, threads].append(float(np.median(t)))
    first = float(np.median(firsts))
    rows = []
    for m in models:
        page_run = min(page_ms[m]); py = {t: min(py_ms[m, t]) for t in (1, 0)}
        rows.append(dict(model=m, images=len(files), page_run_ms=round(float(page_run), 2), python_1thread_ms=round(py[1], 2),
                         python_default_threads_ms=round(py[0], 2), ratio_page_to_python_1thread=round(float(page_run) / py[1], 2),
                         ratio_page_to_python_default=round(float(page_run) / py[0], 2)))
    srv.shutdown()
    out = dict(first_result_s=round(first / 1000, 2), first_result_each_s=[round(f / 1000, 2) for f in firsts], repeats=a.repeats, first_model=models[0], rows=rows, machine=platform.processor() or platform.machine(),
               note='page: headless Debian chromium, onnxruntime-web wasm, 1 thread; Python: onnxruntime CPU; same graph, same pixels; per image: the best of the repeats of the median over the images; first result: the median over the repeats')
    Path(a.out).write_text(json.dumps(out, indent=1))
    for r in rows: print(r)
    print(f"first result {out['first_result_s']} s after the page opened ({models[0]}, model loading included); written to {a.out}")

if __name__ == '__main__': main()
