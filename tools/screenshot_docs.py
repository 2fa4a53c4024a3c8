"""Screenshots of docs pages for a person to look at (not run in CI): nbdev's docs processing and nbconvert HTML, as
tools/check_docs.py does, then headless Chromium.

    python tools/screenshot_docs.py OUT_DIR [--pages index.ipynb 06_metrics.ipynb] [--width 1280] [--height 2400]

Needs Chromium (Debian: `apt-get update && apt-get install -y chromium`; or set CHROMIUM=/path/to/chrome). Writes
OUT_DIR/<page>.png (the top `--height` pixels of each page) and OUT_DIR/<page>.html.
"""
import argparse, os, shutil, subprocess, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_docs import ROOT, proc_docs, render_html

def chromium():
    for c in (os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if c and shutil.which(c): return shutil.which(c)
    sys.exit('Chromium not found: apt-get update && apt-get install -y chromium (or set CHROMIUM=/path/to/chrome)')

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out', help='folder for the PNG screenshots (and the HTML pages)')
    ap.add_argument('--pages', nargs='+', default=['index.ipynb', '06_metrics.ipynb'], help='notebooks, relative to nbs/')
    ap.add_argument('--width', type=int, default=1280)
    ap.add_argument('--height', type=int, default=2400)
    a = ap.parse_args(argv)
    browser, out = chromium(), Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    srcs = [ROOT/'nbs'/p for p in a.pages]
    for s in srcs:
        if not s.exists(): sys.exit(f'{s} not found')
    with tempfile.TemporaryDirectory(prefix='pneumo_shots_') as tmp:
        cache = Path(tmp)/'_proc'; cache.mkdir()
        os.chdir(ROOT)
        res = proc_docs(cache, srcs, workers=1)
        for src in srcs:
            ws, err = res.get(src, ([], 'not processed'))
            if err: print(f'FAIL {src.relative_to(ROOT)}: {err}'); continue
            name = src.relative_to(ROOT/'nbs').with_suffix('').as_posix().replace('/', '_')
            html = out/f'{name}.html'
            size, n_img = render_html(cache/src.relative_to(ROOT/'nbs'), html)
            png = out/f'{name}.png'
            cmd = [browser, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', f'--screenshot={png}',
                   f'--window-size={a.width},{a.height}', '--user-data-dir=' + str(Path(tmp)/'chrome'), html.as_uri()]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if r.returncode or not png.exists(): print(f'FAIL screenshot of {html}: {r.stderr.strip()[-500:]}'); continue
            print(f'{png}  ({size/1e3:.0f} kB html, {n_img} figures)')

if __name__ == '__main__': main()
