"""Check the docs without Quarto: nbdev's notebook processing, then every page rendered to HTML with nbconvert.

1. Runs nbdev's docs processing on every file `nbdev_docs`/`nbdev_proc_nbs` would process: `nbdev.serve.proc_nbs`
   calls `nbdev.serve._proc_file` and then `nbdev.serve_drv.main` with `nbdev.processors.FilterDefaults` on each
   notebook; this script makes the same calls (one spawned process per notebook, as proc_nbs does), minus the Quarto
   install check, into a temporary folder. A broken `show_doc`, directive, import cell or frontmatter fails here
   exactly as it would fail `nbdev_docs`, with every failing notebook reported (proc_nbs stops at the first).
2. Renders each processed page to HTML with nbconvert's HTMLExporter (Quarto's `#| echo/output/include: false`
   applied), and checks that every library page whose notebook draws or trains holds figures.
3. Checks links: relative links in the pages (to notebooks, other files or `.html` pages nbdev renders) and in
   README.md (from the repository root, as GitHub resolves them); `nbs/sidebar.yml` lists every page; `nbs/nbdev.yml`
   is what `nbdev_docs` would write from settings.ini (so a Quarto build does not change tracked files).

Usage: python tools/check_docs.py [--out DIR] [--no-outputs] [--workers N] [--path nbs/03_data.ipynb]
       python tools/check_docs.py --write-sidebar   (after adding or renaming a notebook)
Prints a table (page, html size, figures) and exits 1 when anything fails. The temporary folder is removed unless
--out is given.
"""
import argparse, concurrent.futures as cf, multiprocessing as mp, os, re, shutil, sys, tempfile, time, warnings
import nbformat
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_notebooks import RE_DRAWS   # the same "draws or trains" rule as the notebook check

def process_one(task):
    "Child process: nbdev's own per-file docs processing (`nbdev.serve_drv.main`); returns (warnings, error text)."
    os.chdir(ROOT)
    import nbdev.serve_drv
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try: nbdev.serve_drv.main(task); err = None
        except BaseException as e:   # nbdev's "Error in notebook: T in cell N :\n<source>", caused by the cell's error
            root = e
            while root.__cause__ or root.__context__: root = root.__cause__ or root.__context__
            head = str(e).strip().splitlines()
            code = [l.strip() for l in head[1:] if l.strip() and not l.lstrip().startswith('#|')]
            err = ' '.join(head[:1]) + (f' `{code[0]}`' if code else '')
            m = re.match(r'Error.* in cell (\d+) :\n(.*)', str(e), flags=re.S)
            if m:   # nbdev counts cells after inserting show_doc cells: name the cell of the source notebook too
                strip = lambda t: re.sub(r'^\s*#\|.*\n?', '', t, flags=re.M).strip()
                idx = [i for i, c in enumerate(nbformat.read(task[0], as_version=4).cells) if strip(c.source) == strip(m.group(2))]
                if idx: err = err.replace(f' in cell {m.group(1)} :', f' in cell {idx[0]} (nbdev: processed cell {m.group(1)}):')
            if root is not e: err += f'\n{type(root).__name__}: {root}'
            else: err = f'{type(e).__name__}: ' + err
    msgs = [str(w.message).strip() for w in ws if 'Found cells containing imports' in str(w.message)]
    return msgs, err

def proc_docs(cache, path=None, workers=1):
    "`path`: one notebook or a list (default: all). The file list and per-file processing of `nbdev.serve.proc_nbs`, into `cache`; returns {source: (warnings, error)}."
    from fastcore.xtras import L
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    from nbdev.serve import _proc_file
    cfg = get_config()
    nbs = cfg.nbs_path
    files = nbglob(nbs, func=Path, file_glob='', file_re='')
    for extra in ('_quarto.yml', '_brand.yml'):
        if (nbs/extra).exists(): files.append(nbs/extra)
    if path:
        want = {Path(p).resolve() for p in ([path] if isinstance(path, (str, Path)) else path)}
        files = L(f for f in files if f.resolve() in want)
    tasks = [t for t in files.map(_proc_file, cache=cache, path=nbs) if t]
    res = {}
    ctx = mp.get_context('spawn')
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, max_tasks_per_child=1) as ex:
        futs = {ex.submit(process_one, t): t[0] for t in tasks}
        for f in cf.as_completed(futs):
            try: res[futs[f]] = f.result()
            except Exception as e: res[futs[f]] = ([], f'{type(e).__name__}: {e}')
    return res

def quarto_cells(nb):
    "Show nbdev's frontmatter as Quarto does (title, description); apply the Quarto cell options nbconvert does not know (`echo`, `output`, `include`), then drop the `#|` lines."
    keep = []
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.startswith('---'):   # nbdev's frontmatter: Quarto shows title + description
            import yaml
            fm = yaml.safe_load(c.source.strip().strip('-')) or {}
            if fm.get('title'):
                keep.append(nbformat.v4.new_markdown_cell(f"# {fm['title']}" + (f"\n\n> {fm['description']}" if fm.get('description') else '')))
            continue
        if c.cell_type == 'code':
            opts = dict((k.strip(), v.strip().lower()) for k, v in re.findall(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*)$', c.source, flags=re.M))
            if opts.get('include') == 'false': continue
            c.source = re.sub(r'^\s*#\|.*\n?', '', c.source, flags=re.M)
            tags = set(c.metadata.get('tags', []))
            if opts.get('echo') == 'false' or not c.source.strip(): tags.add('remove_input')
            if opts.get('output') == 'false': tags.add('remove_output')
            c.metadata['tags'] = sorted(tags)
            for o in c.get('outputs', []):   # show_doc's `[source](url){target="_blank" ...}`: Pandoc attributes
                md = o.get('data', {}).get('text/markdown')
                if isinstance(md, str): o['data']['text/markdown'] = re.sub(r'(\]\([^)]*\))\{[^}]*\}', r'\1', md)
        elif c.cell_type == 'markdown' and not c.source: continue
        keep.append(c)
    nb.cells = keep
    return nb

def render_html(ipynb, dest):
    "One processed page to a standalone HTML file (images embedded); returns (bytes, number of <img> tags)."
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    nb = quarto_cells(nbformat.read(ipynb, as_version=4))
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {'remove_output'}
    c.HTMLExporter.exclude_input_prompt = c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.preprocessors = ['nbconvert.preprocessors.TagRemovePreprocessor']
    html, _ = HTMLExporter(config=c, template_name='lab').from_notebook_node(nb, resources={'metadata': {'name': ipynb.stem}})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(html, encoding='utf-8')
    return len(html.encode()), len(re.findall(r'<img\b', html))

RE_LINK = re.compile(r'(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')

def page_names():
    "Source notebook -> the .html name nbdev gives its page (`03_data.ipynb` -> `data.html`)."
    from nbdev.doclinks import _nbpath2html
    nbs = ROOT/'nbs'
    return {p: _nbpath2html(p).name for p in nbs.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts}

def bad_links(text, base, pages, allow_html):
    "Relative links in `text` that do not resolve from folder `base`."
    bad = []
    for url in RE_LINK.findall(text):
        if re.match(r'^([a-z]+:|#|/)', url): continue
        target = (base/url.split('#')[0]).resolve()
        if target.exists(): continue
        if allow_html and target.suffix == '.html' and any(p.parent.resolve() == target.parent and n == target.name for p, n in pages.items()):
            continue
        bad.append(url)
    return bad

def check_links(pages):
    fails = []
    for p in pages:
        if any(x.startswith(('_', '.')) for x in p.relative_to(ROOT/'nbs').parts): continue
        nb = nbformat.read(p, as_version=4)
        for i, c in enumerate(nb.cells):
            if c.cell_type != 'markdown': continue
            fails += [f'{p.relative_to(ROOT)} cell {i}: link `{u}` does not resolve from {p.parent.relative_to(ROOT)}/'
                      for u in bad_links(c.source, p.parent, pages, allow_html=True)]
    readme = ROOT/'README.md'
    if readme.exists():
        fails += [f'README.md: link `{u}` does not resolve from the repository root (GitHub)'
                  for u in bad_links(readme.read_text(), ROOT, pages, allow_html=False)]
    return fails

def check_config(pages):
    "sidebar.yml lists every page; nbdev.yml is what `nbdev_docs` (refresh_quarto_yml) would write."
    import yaml
    from nbdev.config import get_config
    from nbdev.quarto import _nbdev_yml
    fails, cfg, nbs = [], get_config(), ROOT/'nbs'
    vals = {k: cfg[k] for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    vals['doc_path'] = cfg.doc_path.name
    if (nbs/'nbdev.yml').read_text() != _nbdev_yml.format(**vals):
        fails.append('nbs/nbdev.yml differs from what nbdev_docs writes from settings.ini (run nbdev_docs or copy it)')
    if (nbs/'sidebar.yml').exists():
        def flat(x):
            if isinstance(x, str): yield x
            elif isinstance(x, dict): yield from flat(x.get('contents', []))
            elif isinstance(x, list):
                for y in x: yield from flat(y)
        listed = set(flat(yaml.safe_load((nbs/'sidebar.yml').read_text())['website']['sidebar']['contents']))
        want = {p.relative_to(nbs).as_posix() for p in pages if not any(x.startswith(('_', '.')) for x in p.relative_to(nbs).parts)}
        fails += [f'nbs/sidebar.yml does not list {w} (python tools/check_docs.py --write-sidebar)' for w in sorted(want - listed)]
        fails += [f'nbs/sidebar.yml lists {w}, which does not exist' for w in sorted(listed - want)]
    return fails

def write_sidebar():
    "nbs/sidebar.yml listing index, the library notebooks in order, then each subfolder (tutorials) as a section."
    nbs = ROOT/'nbs'
    ok = lambda p: not any(x.startswith(('_', '.')) for x in p.relative_to(nbs).parts)
    top = ['index.ipynb'] * (nbs/'index.ipynb').exists() + sorted(p.name for p in nbs.glob('*.ipynb') if ok(p) and p.name != 'index.ipynb')
    s = 'website:\n  sidebar:\n    contents:\n' + ''.join(f'      - {t}\n' for t in top)
    for d in sorted(d for d in nbs.iterdir() if d.is_dir() and ok(d)):
        sub = sorted(p.relative_to(nbs).as_posix() for p in d.rglob('*.ipynb') if ok(p))
        if sub: s += f'      - section: {d.name.replace("_", " ").title()}\n        contents:\n' + ''.join(f'          - {t}\n' for t in sub)
    (nbs/'sidebar.yml').write_text(s)
    print(f'nbs/sidebar.yml written:\n{s}')

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', help='keep the processed notebooks and HTML pages in this folder')
    ap.add_argument('--no-outputs', action='store_true', help='do not require figures (while notebooks are being rewritten)')
    ap.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1), help='processes (default: 2)')
    ap.add_argument('--path', help='process only this notebook')
    ap.add_argument('--write-sidebar', action='store_true', help='write nbs/sidebar.yml from the notebooks and stop')
    a = ap.parse_args(argv)
    if a.write_sidebar: return write_sidebar()
    os.chdir(ROOT)
    tmp = Path(a.out).resolve() if a.out else Path(tempfile.mkdtemp(prefix='pneumo_docs_'))
    if a.out and tmp.exists(): shutil.rmtree(tmp)
    cache, html_dir = tmp/'_proc', tmp/'html'
    cache.mkdir(parents=True)
    fails = []
    try:
        t0 = time.time()
        res = proc_docs(cache, a.path, a.workers)
        print(f'nbdev docs processing: {len(res)} notebooks in {time.time()-t0:.0f} s')
        for src, (ws, err) in sorted(res.items()):
            rel = src.relative_to(ROOT)
            for w in ws: print(f'WARN {rel}: nbdev: ' + w.splitlines()[0] + ' | ' + (w.split('---')[1].strip().splitlines() or [''])[0])
            if err:
                fails.append(f'{rel}: nbdev docs processing failed:\n    ' + err.strip().replace('\n', '\n    '))
        rows = []
        for src in sorted(res):
            if res[src][1]: rows.append((src.relative_to(ROOT/'nbs').as_posix(), 'FAILED', '-', '')); continue
            proc = cache/src.relative_to(ROOT/'nbs')
            size, n_img = render_html(proc, (html_dir/src.relative_to(ROOT/'nbs')).with_suffix('.html'))
            nb = nbformat.read(src, as_version=4)
            draws = bool(re.match(r'\d\d_', src.name)) and src.parent == ROOT/'nbs' and any(
                c.cell_type == 'code' and RE_DRAWS.search(c.source) for c in nb.cells)
            need = 'needs figures' if draws else ''
            if draws and n_img == 0 and not a.no_outputs:
                fails.append(f'{src.relative_to(ROOT)}: the page draws or trains but its HTML has no figure (commit the outputs)')
            rows.append((src.relative_to(ROOT/'nbs').as_posix(), f'{size/1e3:.0f} kB', n_img, need))
        pages = page_names()
        if not a.path: fails += check_links(pages) + check_config(pages)
        print(f"\n{'page':<36}{'html':>10}{'figures':>9}")
        for r in rows: print(f'{r[0]:<36}{r[1]:>10}{r[2]:>9}  {r[3]}')
        for f in fails: print('FAIL ' + f)
        print(f"\n{'FAILED' if fails else 'OK'}: {len(fails)} problem(s); pages in {html_dir if a.out else '(temporary folder, removed)'}"
              + (' (figures not required: --no-outputs)' if a.no_outputs else ''))
    finally:
        if not a.out: shutil.rmtree(tmp, ignore_errors=True)
    return 1 if fails else 0

if __name__ == '__main__': sys.exit(main())
