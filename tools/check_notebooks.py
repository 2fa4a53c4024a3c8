"""Check the library notebooks (nbs/[0-9][0-9]*_*.ipynb, 08a_evaluate included) against the project's notebook standard.

Per notebook:
- structure: first cell `#| default_exp <module>`; the next markdown cell has an H1 and a `>` subtitle;
- import cells hold only imports (parsed with `ast`; `#|` directives, comments and magics are ignored): nbdev's docs
  processing runs every cell that imports something, so an import cell that also uses a variable breaks the docs;
- size under 1 MB;
- outputs (skipped with --no-outputs): at least 3 code cells with outputs, a figure when the notebook draws or trains,
  no warning and no absolute path of the build machine in any output.
Over all library notebooks: checking cells per exported name (`__all__` of pneumo_nb/<module>.py, or the `#| export`
cells when the module is missing) must be at least 0.9. A checking cell is a non-exported code cell that calls one of
fastcore.test's checks or uses `assert`.

Usage: python tools/check_notebooks.py [--no-outputs] [--path nbs/03_data.ipynb] [--min-ratio 0.9]
Exit status 1 when anything fails; every failure names the notebook, the cell index and the cell's first line.
"""
import argparse, ast, re, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NBS, LIB = ROOT/'nbs', ROOT/'pneumo_nb'
CHECKS = {'test_eq', 'test_ne', 'test_close', 'test_fail', 'test_fig_exists', 'test_is', 'test_warns', 'test_stdout',
          'test_eq_type', 'test_shuffled'}
EXPORT_DIRS = {'export', 'exports', 'exporti'}
MIN_OUTPUT_CELLS, MAX_BYTES = 3, 1_000_000
RE_WARN_ANY = re.compile(r'\b(FutureWarning|DeprecationWarning|UserWarning|RuntimeWarning)\b')
RE_WARN_STDERR = re.compile(r'Warning|warning:')
RE_ABS_PATH = re.compile(r'(/work/|/root/|/home/|/tmp/|/Users/|/private/var/|\b[A-Za-z]:\\)')
RE_DRAWS = re.compile(r'\bplt\.|\bplot_\w*\(|\bshow_(?!doc\b)\w+\(|\.fit(_one_cycle|_flat_cos)?\(|\btrain_run\(')
TEXT_MIMES = ('text/plain', 'text/html', 'text/markdown', 'text/latex', 'application/json')

def directives(src):
    "The `#|` directive names of a cell (`#| export` -> 'export', `#| hide` -> 'hide', `#| eval: false` -> 'eval')."
    return [m.split(':')[0].split()[0] for m in re.findall(r'^\s*#\|\s*(\S.*)$', src, flags=re.M) if m.strip()]

def first_line(src):
    lines = [l for l in src.splitlines() if l.strip() and not l.lstrip().startswith('#|')]
    return (lines[0] if lines else src.splitlines()[0] if src else '').strip()[:100]

def parse(src):
    "AST of a code cell, with magics (`%`, `!`) blanked; None when it does not parse."
    code = '\n'.join('' if l.lstrip().startswith(('%', '!')) else l for l in src.splitlines())
    try: return ast.parse(code)
    except SyntaxError: return None

def is_import(stmt):
    "An import, or a `try:` that only imports (optional dependencies)."
    if isinstance(stmt, (ast.Import, ast.ImportFrom)): return True
    if isinstance(stmt, ast.Try):
        body = stmt.body + [s for h in stmt.handlers for s in h.body] + stmt.orelse + stmt.finalbody
        return all(is_import(s) or isinstance(s, ast.Pass) for s in body)
    return False

def mixes_imports(tree, exported):
    "True when a cell imports and also does anything else (top level; nested imports count in non-exported cells)."
    if tree is None or not tree.body: return False
    top = [is_import(s) for s in tree.body]
    if any(top) and not all(top): return True
    if exported or any(top): return False
    return any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))   # nbdev runs these in docs

def is_check(tree):
    if tree is None: return False
    for n in ast.walk(tree):
        if isinstance(n, ast.Assert): return True
        if isinstance(n, ast.Call):
            f = n.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in CHECKS: return True
    return False

def module_name(nb):
    m = re.search(r'^\s*#\|\s*default_exp\s+(\S+)', nb.cells[0].source if nb.cells else '', flags=re.M)
    return m.group(1) if m else None

def exported_names(nb, mod):
    "`__all__` of the generated module; parsed from the notebook's export cells when the module does not exist."
    py = LIB/(mod.replace('.', '/') + '.py') if mod else None
    if py and py.exists():
        for n in ast.parse(py.read_text()).body:
            if isinstance(n, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in n.targets):
                return list(ast.literal_eval(n.value))
        return []
    names = []
    for c in nb.cells:
        if c.cell_type != 'code' or not ({'export', 'exports'} & set(directives(c.source))): continue
        tree = parse(c.source)
        for n in (tree.body if tree else []):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.append(n.name)
            elif isinstance(n, (ast.Assign, ast.AnnAssign)):
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                    names += [e.id for e in ast.walk(t) if isinstance(e, ast.Name)]
    return [n for n in dict.fromkeys(names) if not n.startswith('_')]

def output_texts(o):
    if o.get('output_type') == 'stream': yield o.get('name', 'stdout'), o.get('text', '')
    elif o.get('output_type') == 'error': yield 'error', '\n'.join(o.get('traceback', [])) + o.get('evalue', '')
    else:
        for k in TEXT_MIMES:
            v = o.get('data', {}).get(k)
            if v is not None: yield k, v if isinstance(v, str) else str(v)

def output_problems(i, c):
    "Warnings, errors and absolute paths in the outputs of cell `c` (index `i`)."
    fails = []
    for o in c.get('outputs', []):
        for kind, text in output_texts(o):
            if kind == 'error':
                fails.append((i, first_line(c.source), f'output holds an error: {text.strip().splitlines()[-1][:120] if text.strip() else ""}'))
            m = RE_WARN_ANY.search(text) or (kind == 'stderr' and RE_WARN_STDERR.search(text))
            if m:
                line = next((l for l in text.splitlines() if m.group(0) in l), '')
                fails.append((i, first_line(c.source), f'output holds a warning ({kind}): {line.strip()[:120]}'))
            p = RE_ABS_PATH.search(text)
            if p:
                line = next((l for l in text.splitlines() if p.group(0) in l), '')
                fails.append((i, first_line(c.source), f'output holds an absolute path ({kind}): {line.strip()[:120]}'))
    return fails

def check_notebook(fn, outputs=True, library=True):
    """Returns (failures, n_exports, n_checks): failures are (cell index or None, first line, message).
    `library=False` (index, tutorials): only the size and the warnings/paths in outputs are checked."""
    fails = []
    if fn.stat().st_size > MAX_BYTES: fails.append((None, '', f'notebook is {fn.stat().st_size/1e6:.2f} MB (> 1 MB)'))
    nb = nbformat.read(fn, as_version=4)
    cells = nb.cells
    if not library:
        if outputs: fails += [f for i, c in enumerate(cells) if c.cell_type == 'code' for f in output_problems(i, c)]
        return fails, 0, 0
    if not cells or cells[0].cell_type != 'code' or not module_name(nb):
        fails.append((0, first_line(cells[0].source) if cells else '', 'first cell is not `#| default_exp <module>`'))
    md = next(((i, c) for i, c in enumerate(cells[1:], 1) if c.cell_type == 'markdown'), None)
    if md is None: fails.append((None, '', 'no markdown cell with the H1 title and `>` subtitle'))
    else:
        i, c = md
        if not re.search(r'^# \S', c.source, flags=re.M): fails.append((i, first_line(c.source), 'first markdown cell has no H1 (`# Title`)'))
        if not re.search(r'^>\s*\S', c.source, flags=re.M): fails.append((i, first_line(c.source), 'first markdown cell has no `>` subtitle'))
    n_checks, n_out, has_fig = 0, 0, False
    for i, c in enumerate(cells):
        if c.cell_type != 'code': continue
        exported = bool(set(directives(c.source)) & EXPORT_DIRS)
        tree = parse(c.source)
        if tree is None and c.source.strip():
            fails.append((i, first_line(c.source), 'cell does not parse as Python'))
        if mixes_imports(tree, exported) and 'nbdev_export()' not in c.source:   # nbdev skips the export cell
            fails.append((i, first_line(c.source), 'import cell mixes imports with other code (put the imports in a cell of their own)'))
        if not exported and is_check(tree): n_checks += 1
        outs = c.get('outputs', [])
        if outs: n_out += 1
        if any('image/png' in o.get('data', {}) or 'image/svg+xml' in o.get('data', {}) for o in outs): has_fig = True
        if outputs: fails += output_problems(i, c)
    if outputs:
        if n_out < MIN_OUTPUT_CELLS:
            fails.append((None, '', f'only {n_out} code cells have outputs (need >= {MIN_OUTPUT_CELLS}): execute it and commit the outputs'))
        draws = any(c.cell_type == 'code' and RE_DRAWS.search(c.source) for c in cells)
        if draws and not has_fig: fails.append((None, '', 'the notebook draws or trains but no output holds a figure'))
    return fails, len(exported_names(nb, module_name(nb))), n_checks

def is_hidden(fn):
    "Notebooks nbdev skips (names starting with `_` or `.`, checkpoints)."
    return any(p.startswith(('_', '.')) for p in fn.relative_to(NBS).parts)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--no-outputs', action='store_true', help='skip the output checks (while notebooks are being rewritten)')
    p.add_argument('--path', help='check only this notebook (the ratio is then reported, not enforced)')
    p.add_argument('--min-ratio', type=float, default=0.9, help='minimum checking cells per exported name (default 0.9)')
    a = p.parse_args(argv)
    fns = [Path(a.path).resolve()] if a.path else sorted(NBS.glob('[0-9][0-9]*_*.ipynb'))
    if not fns or not all(f.exists() for f in fns): sys.exit(f'No notebook found: {a.path or NBS}')
    others = [] if a.path else [f for f in sorted(NBS.rglob('*.ipynb')) if f not in fns and not is_hidden(f)]
    total_fail, rows = 0, []
    for fn in fns + others:
        library = fn in fns and re.match(r'\d\d[a-z]?_', fn.name) is not None
        fails, n_exp, n_chk = check_notebook(fn, outputs=not a.no_outputs, library=library)
        if library: rows.append((fn.name, n_exp, n_chk))
        for i, line, msg in fails:
            where = f'cell {i}' if i is not None else 'notebook'
            print(f'FAIL {fn.relative_to(ROOT) if fn.is_relative_to(ROOT) else fn} {where}: {msg}' + (f'\n     | {line}' if line else ''))
        total_fail += len(fails)
    print(f"\n{'notebook':<24}{'exports':>8}{'checks':>8}{'ratio':>8}")
    for name, e, c in rows: print(f"{name:<24}{e:>8}{c:>8}{(c/e if e else float('nan')):>8.2f}")
    E, C = sum(r[1] for r in rows), sum(r[2] for r in rows)
    ratio = C/E if E else 1.0
    print(f"{'total':<24}{E:>8}{C:>8}{ratio:>8.2f}   (required >= {a.min_ratio})")
    if ratio < a.min_ratio and not a.path:
        print(f'FAIL checking cells per exported name: {ratio:.2f} < {a.min_ratio}'); total_fail += 1
    print(f"\n{'FAILED' if total_fail else 'OK'}: {total_fail} problem(s) in {len(fns)} library notebook(s)"
          + (f" and {len(others)} other notebook(s) (index, tutorials: size, warnings and paths in outputs only)" if others else '')
          + (' (output checks skipped: --no-outputs)' if a.no_outputs else ''))
    return 1 if total_fail else 0

if __name__ == '__main__': sys.exit(main())
