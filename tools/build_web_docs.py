"""The docs copy of the web page: `nbs/web/`, a resource of the docs site (nbs/_quarto.yml), written by one command so it
cannot drift from the package:

    python tools/build_web_docs.py            # (re)write nbs/web/ with the shipped models (= pneumo_export --web nbs/web NAMES)
    python tools/build_web_docs.py --check    # export again into a temporary folder and compare (CI): exit 1 on a difference

The check compares every file byte for byte except the ONNX graphs, which are compared by running both on the same real
X-ray (a newer torch may write other bytes for the same graph)."""
import argparse, shutil, sys, tempfile
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT/'nbs'/'web'

def build(dest:Path) -> Path:
    from pneumo_nb.runs import load_run, REFERENCES
    from pneumo_nb.web import export_web
    return export_web(dest, [load_run(n) for n in REFERENCES])

def same_graph(a:Path, b:Path) -> bool:
    import onnxruntime as ort
    from PIL import Image
    x = next((ROOT/'..'/'shared'/'data'/'chest_xray_224'/'test'/'NORMAL').glob('*.jpeg'), None)
    img = np.asarray(Image.open(x).convert('RGBA'))[None] if x else np.random.default_rng(0).integers(0, 256, (1, 90, 70, 4), dtype=np.uint8)
    outs = [ort.InferenceSession(str(p), providers=['CPUExecutionProvider']).run(None, {'images': img}) for p in (a, b)]
    return all(np.allclose(u, v, rtol=1e-5, atol=1e-6) for u, v in zip(*outs))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0]); ap.add_argument('--check', action='store_true')
    a = ap.parse_args()
    if not a.check:
        if DOCS.exists(): shutil.rmtree(DOCS)
        build(DOCS)
        print(f'wrote {DOCS.relative_to(ROOT)}: ' + ', '.join(sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob('*') if p.is_file())))
        return 0
    with tempfile.TemporaryDirectory() as d:
        new = build(Path(d)/'web')
        fa = {str(p.relative_to(DOCS)) for p in DOCS.rglob('*') if p.is_file()}
        fb = {str(p.relative_to(new)) for p in new.rglob('*') if p.is_file()}
        bad = [f'only in nbs/web: {f}' for f in sorted(fa - fb)] + [f'missing from nbs/web: {f}' for f in sorted(fb - fa)]
        for f in sorted(fa & fb):
            if f.endswith('.onnx'): ok = same_graph(DOCS/f, new/f)
            else: ok = (DOCS/f).read_bytes() == (new/f).read_bytes()
            if not ok: bad.append(f'differs: nbs/web/{f}')
    for b in bad: print(b, file=sys.stderr)
    print(f'nbs/web: {len(fa)} files, ' + ('in sync with pneumo_export --web' if not bad else f'{len(bad)} differences: run python tools/build_web_docs.py'))
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
