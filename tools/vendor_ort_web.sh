#!/usr/bin/env bash
# Vendor onnxruntime-web's wasm build (3 files) from its npm package into pneumo_nb/web_page/vendor/, pinned by version:
#   bash tools/vendor_ort_web.sh 1.31.1
# Then update ORT_WEB_VERSION in nbs/17a_web.ipynb and VENDOR.json (this script rewrites VENDOR.json's version, integrity and hashes).
set -euo pipefail
v=${1:?usage: tools/vendor_ort_web.sh VERSION}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "onnxruntime-web@$v" >/dev/null && tar xzf "onnxruntime-web-$v.tgz")
dst=pneumo_nb/web_page/vendor
for f in ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do cp "$tmp/package/dist/$f" "$dst/$f"; done
integrity=$(cd "$tmp" && npm view "onnxruntime-web@$v" dist.integrity)
python3 - "$v" "$integrity" <<'PY'
import hashlib, json, pathlib, sys
d = pathlib.Path('pneumo_nb/web_page/vendor'); j = json.loads((d/'VENDOR.json').read_text())
v, integ = sys.argv[1:]
j.update(version=v, integrity=integ, tarball=f'https://registry.npmjs.org/onnxruntime-web/-/onnxruntime-web-{v}.tgz',
         sha256={p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.glob('ort*'))})
(d/'VENDOR.json').write_text(json.dumps(j, indent=1))
PY
echo "vendored onnxruntime-web $v into $dst"
