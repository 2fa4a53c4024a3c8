"""The web page in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright with `executable_path`; no
browser is downloaded) scores real X-rays and non-X-rays with both shipped models, checked against `pneumo_predict`.

    python tools/check_web.py [--data ../shared/data] [--page DIR] [--screenshot nbs/images/web_page.png] [--n 24]

The page is the folder `export_web` writes for the shipped models (`--page DIR`: an existing one, e.g. the docs copy
`nbs/web`), served on 127.0.0.1. For every dropped file and each model it checks:
  - the probability within 1e-4 of Python onnxruntime on the same graph input (the pixels the page decoded), and within
    the declared tolerance (`pneumo_nb.web.WEB_TOLERANCE`) of `predict_files` from the raw file;
  - the same label and the same `ood` flag as `predict_files`;
  - the heatmap's peak in the same cell as `python_cam` (Python's CAM) for at least 95% of the images;
that a DICOM file is refused with a pointer to `pneumo_predict`, and that no request leaves 127.0.0.1. Prints the numbers, times (page and Python per image, first result after opening)
and PASS or FAIL; exits 1 on failure."""
import argparse, base64, functools, json, sys, tempfile, threading, time
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODELS = ('pneumoniamnist-28', 'chest-xray-64')

def non_xrays() -> list:
    "Pictures that ship inside installed packages (matplotlib, scikit-learn, scikit-image): no X-rays."
    import matplotlib, sklearn.datasets
    fs = sorted(Path(matplotlib.get_data_path(), 'sample_data').glob('*.[pj][np]g'))
    fs += sorted(Path(sklearn.datasets.__file__).parent.glob('images/*.jpg'))
    try:
        import skimage
        d = Path(skimage.__file__).parent/'data'
        fs += [d/f for f in ('astronaut.png', 'coffee.png', 'chelsea.png', 'rocket.jpg', 'camera.png', 'coins.png', 'page.png') if (d/f).is_file()]
    except ImportError: pass
    return fs

def xrays(data:Path, n:int) -> list:
    "`n` real X-rays from each Kaggle test copy (224 px JPEG, 64 px PNG), both classes, spread over the folder."
    out = []
    for copy in ('chest_xray_224', 'chest_xray_64'):
        for cls in ('NORMAL', 'PNEUMONIA'):
            fs = sorted((data/copy/'test'/cls).iterdir())
            out += fs[::max(1, len(fs) // (n // 2))][:n // 2]
    return out

class Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, '.wasm': 'application/wasm', '.mjs': 'text/javascript',
                      '.js': 'text/javascript', '.json': 'application/json', '.onnx': 'application/octet-stream'}
    def log_message(self, *a): pass

def serve(folder:Path):
    srv = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'

def browser(pw):
    return pw.chromium.launch(executable_path='/usr/bin/chromium', headless=True,
                              args=['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'])

def run_page(base:str, files:list, models, keep=True):
    "Open the page, drop `files`, score them with each model; `(results per model, decoded inputs, requests, first-result ms)`."
    from playwright.sync_api import sync_playwright
    reqs, res, inputs, table = [], {}, {}, {}
    with sync_playwright() as pw:
        b = browser(pw); page = b.new_page(viewport={'width': 1200, 'height': 900})
        page.on('request', lambda r: reqs.append(r.url))
        errors = []
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto(base + ('index.html?keep=1' if keep else 'index.html'))
        page.set_input_files('#files', [str(f) for f in files])
        for i, m in enumerate(models):
            if i:
                page.evaluate('window.pneumoDone = undefined')
                page.select_option('#model', m)
            try: page.wait_for_function(f'() => window.pneumoDone === {len(files)}', timeout=150_000)
            except Exception as e: raise RuntimeError(f"the page did not finish with {m}: its status says {page.inner_text('#status')!r}; errors: {errors[:3]}") from e
            res[m] = page.evaluate('window.pneumoResults.map(r => ({...r}))')
            table[m] = page.evaluate('''() => ({rows: Array.from(document.querySelectorAll('#results tbody tr')).map(tr => [tr.dataset.file, tr.dataset.prob, tr.dataset.label, tr.dataset.ood]),
                                               csv: window.pneumoCSV(), disclaimer: document.getElementById('disclaimer').innerText,
                                               card: document.getElementById('cardlink').getAttribute('href')})''')
            if i == 0:
                first = page.evaluate('window.pneumoFirstResultMs')
                inputs = page.evaluate('''() => Object.fromEntries(Object.entries(window.pneumoInputs).map(([k, v]) => {
                    let s = ''; const d = v.data; for (let i = 0; i < d.length; i += 32768) s += String.fromCharCode.apply(null, d.subarray(i, i + 32768));
                    return [k, [v.h, v.w, btoa(s)]]; }))''')
        b.close()
    if errors: raise RuntimeError(f'the page raised: {errors[:3]}')
    run_page.table = table   # the page's table, CSV, disclaimer and card link per model
    return res, {k: np.frombuffer(base64.b64decode(s), np.uint8).reshape(h, w, 4) for k, (h, w, s) in inputs.items()}, reqs, first

def screenshot(base:str, files:list, out:Path, model:str):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = browser(pw); page = b.new_page(viewport={'width': 1100, 'height': 700})
        page.goto(base + 'index.html')
        page.wait_for_function('() => window.pneumoReady === true', timeout=60_000)
        page.select_option('#model', model)
        page.set_input_files('#files', [str(f) for f in files])
        page.wait_for_function(f'() => window.pneumoDone === {len(files)}', timeout=120_000)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        from PIL import Image   # 256 colours: a modest file for the docs
        Image.open(out).convert('RGB').quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
        b.close()

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default='../shared/data'); ap.add_argument('--page', default=None, help='a page folder (default: export one now)')
    ap.add_argument('--n', type=int, default=24, help='X-rays from each Kaggle test copy'); ap.add_argument('--screenshot', default=None)
    ap.add_argument('--verbose', action='store_true', help='print the images that differ most')
    a = ap.parse_args()
    import torch, onnxruntime as ort
    torch.set_num_threads(1)
    from pneumo_nb.runs import load_run, predict_files
    from pneumo_nb.decode import read_files
    from pneumo_nb.web import export_web, WEB_TOLERANCE, python_cam, heat_peak
    data = Path(a.data)
    files = xrays(data, a.n) + non_xrays()
    n_x = len(files) - len(non_xrays())
    with tempfile.TemporaryDirectory() as tmp:
        from pneumo_nb.decode import xray_to_dicom   # a real X-ray as DICOM: the page refuses it and points to pneumo_predict
        dcm = xray_to_dicom(files[0], Path(tmp)/'xray_as_dicom.dcm')
        runs = [load_run(m) for m in MODELS]
        page_dir = Path(a.page) if a.page else export_web(Path(tmp)/'page', runs)
        srv, base = serve(page_dir)
        t0 = time.time()
        models = [m['name'] for m in json.loads((page_dir/'models.json').read_text())['models']]   # the selector's order
        if sorted(models) != sorted(MODELS): print(f'FAIL: the page has models {models}, not {list(MODELS)}'); return 1
        res, inputs, reqs, first = run_page(base, files + [dcm], models)
        print(f'page: {page_dir if a.page else "exported now"}, served at {base}; {n_x} X-rays and {len(files) - n_x} non-X-rays, '
              f'{len(MODELS)} models, {time.time() - t0:.0f} s in Chromium')
        fails, rows = [], []
        import csv as _csv, io
        from pneumo_nb.core import DISCLAIMER
        for m in models:
            t = run_page.table[m]
            rows_csv = list(_csv.DictReader(io.StringIO(t['csv'])))
            if [r[0] for r in t['rows']] != [x['file'] for x in res[m]] or any((float(r[1]) if r[1] else '') != x['prob'] or r[2] != x['label'] or r[3] != str(x['ood']).lower()
                                                                             for r, x in zip(t['rows'], res[m])):
                fails.append(f'{m}: the table rows\' data-file/data-prob/data-label/data-ood attributes are not the results')
            if len(rows_csv) != len(res[m]) or any(r['path'] != x['file'] or r['label'] != x['label'] for r, x in zip(rows_csv, res[m])):
                fails.append(f'{m}: the CSV does not hold one row per file')
            if t['card'] != f'models/{m}/card.json': fails.append(f'{m}: the card link is {t["card"]}')
            if 'not a diagnostic device' not in t['disclaimer']: fails.append('the disclaimer is not on the page')
            d = [x for x in res[m] if x['file'] == dcm.name]
            if not d or d[0]['prob'] != '' or 'pneumo_predict' not in d[0]['reason']: fails.append(f'{m}: the DICOM file was not refused with a pointer to pneumo_predict: {d}')
        for m, r in zip(MODELS, runs):   # `res` is keyed by name
            got = {x['file']: x for x in res[m]}
            ref = predict_files(m, files, progress='quiet')
            card = json.loads((page_dir/'models'/m/'card.json').read_text())
            opts = ort.SessionOptions(); opts.intra_op_num_threads = 1
            sess = ort.InferenceSession(str(page_dir/'models'/m/'model.onnx'), opts, providers=['CPUExecutionProvider'])
            x, ok, _ = read_files(list(ref.path), r.raw)
            cams = python_cam(r.model, x, r.batch)
            d_ort, d_raw, lab, ood, peak, t_py, t_page, transparent = [], [], [], [], [], [], [], set()
            for (_, row), hc in zip(ref.iterrows(), cams):
                g = got.get(Path(row.path).name)
                if g is None or g['prob'] == '': fails.append(f'{m}: no result for {row.path}'); continue
                t = time.perf_counter(); o = sess.run(None, {'images': inputs[Path(row.path).name][None]}); t_py.append(time.perf_counter() - t)
                t_page.append(g['ms'] / 1000)
                d_ort.append(abs(g['prob'] - float(o[0][0])))
                if g.get('transparent'): transparent.add(Path(row.path).name)   # a canvas loses the colour under transparent pixels
                else: d_raw.append(abs(g['prob'] - row.prob_pneumonia))
                lab.append(g['label'] == row.label); ood.append(bool(g['ood']) == bool(row.ood))
                peak.append(tuple(g['peak']) == heat_peak(hc))
                dr = abs(g['prob'] - row.prob_pneumonia)
                if a.verbose and (d_ort[-1] > 1e-5 or dr > 0.005 or not peak[-1]):
                    print(f'  {m} {Path(row.path).name}: |page - onnxruntime| {d_ort[-1]:.1e}, |page - predict_files| {dr:.4f}, '
                          f'peak {g["peak"]} vs {heat_peak(hc)}, ood {g["ood"]} {row.ood}, ood_score {g["ood_score"]:.3f} {row.ood_score:.3f}')
            rows.append(dict(model=m, images=len(d_ort), max_d_ort=max(d_ort), max_d_predict_files=max(d_raw), transparent=len(transparent), same_label=np.mean(lab),
                             same_ood=np.mean(ood), n_ood=int(sum(bool(g['ood']) for g in res[m])), same_peak=np.mean(peak),
                             page_ms=1000 * np.median(t_page), python_ms=1000 * np.median(t_py)))
            if len(d_ort) < n_x + 10: fails.append(f'{m}: only {len(d_ort)} images scored')
            if max(d_ort) > 1e-4: fails.append(f'{m}: probability differs from Python onnxruntime on the same input by {max(d_ort):.1e} > 1e-4')
            if max(d_raw) > WEB_TOLERANCE: fails.append(f'{m}: probability differs from predict_files by {max(d_raw):.3f} > {WEB_TOLERANCE}')
            if not all(lab): fails.append(f'{m}: {len(lab) - sum(lab)} labels differ from predict_files')
            if not all(ood): fails.append(f'{m}: {len(ood) - sum(ood)} ood flags differ from predict_files')
            if np.mean(peak) < 0.95: fails.append(f'{m}: heatmap peak in the same cell for only {np.mean(peak):.0%} of images')
            if card['threshold'] != r.threshold: fails.append(f'{m}: the card threshold {card["threshold"]} is not the run\'s {r.threshold}')
        if transparent: print(f'with transparent pixels (a canvas loses their colour; compared to predict_files on label and ood only): {sorted(transparent)}')
        outside = [u for u in reqs if not u.startswith(base)]
        if outside: fails.append(f'{len(outside)} requests left 127.0.0.1: {outside[:3]}')
        import pandas as pd
        with pd.option_context('display.width', 200, 'display.max_columns', 20):
            print(pd.DataFrame(rows).set_index('model').round(6).to_string())
        print(f'requests: {len(reqs)}, all to {base}' if not outside else f'requests outside 127.0.0.1: {outside[:5]}')
        print(f'first result {first / 1000:.2f} s after the page opened (model loading included)')
        if a.screenshot:
            shots = [f for f in files[:n_x] if 'chest_xray_224' in str(f)][::8][:3] + non_xrays()[1:2]
            screenshot(base, shots, Path(a.screenshot), 'chest-xray-64')
            print(f'screenshot: {a.screenshot}')
        srv.shutdown()
    for f in fails: print('FAIL:', f)
    print(f'check_web: {"FAIL" if fails else "PASS"} ({len(fails)} failures)')
    return 1 if fails else 0

if __name__ == '__main__': sys.exit(main())
