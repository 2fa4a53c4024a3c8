"""The import rule of pneumo_nb: a module imports only modules exported from lower-numbered notebooks, at module level
and inside functions alike (a module exported from the same notebook as a compatibility name may import its siblings).

    python tools/check_imports.py              # check pneumo_nb/ against nbs/
    python tools/check_imports.py --self-test  # plant a violation in a copy and check that it is caught

Exits 1 naming both modules (and their notebooks) for every import that goes up or sideways, and for any cycle."""
import ast, json, re, sys, shutil, tempfile, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def module_numbers(nbs:Path, lib_name:str='pneumo_nb') -> dict:
    "module -> (number, notebook, default module of that notebook), from each notebook's `default_exp` and `#| export <module>` cells."
    out = {}
    for f in sorted(nbs.glob('[0-9][0-9]*_*.ipynb')):   # 08a_x comes after 08_y and before 09_z
        m0 = re.match(r'(\d+)([a-z]?)_', f.name); num = (int(m0[1]), m0[2]); default = None
        for c in json.loads(f.read_text())['cells']:
            if c['cell_type'] != 'code': continue
            s = ''.join(c['source'])
            m = re.match(r'#\|\s*default_exp\s+(\S+)', s)
            if m: default = m[1]; out[default] = (num, f.name, default); continue
            m = re.match(r'#\|\s*export[si]?\s+([A-Za-z_][\w.]*)\s*$', s.split('\n')[0])
            if m and default: out.setdefault(m[1], (num, f.name, default))
    return out

def imports_of(path:Path, lib_name:str='pneumo_nb') -> list:
    "[(line, imported module)] for every import of a package module in `path`, at any depth."
    mod = path.stem; out = []
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1: names = [n.module] if n.module else [a.name for a in n.names]
            elif n.level == 0 and n.module and (n.module == lib_name or n.module.startswith(lib_name + '.')):
                names = [n.module[len(lib_name) + 1:]] if n.module != lib_name else [a.name for a in n.names]
            else: continue
            out += [(n.lineno, x.split('.')[0]) for x in names if x]
        elif isinstance(n, ast.Import):
            out += [(n.lineno, a.name.split('.')[1]) for a in n.names if a.name.startswith(lib_name + '.')]
        elif isinstance(n, ast.Call) and getattr(n.func, 'attr', getattr(n.func, 'id', None)) == 'import_module' and n.args \
                and isinstance(n.args[0], ast.Constant) and str(n.args[0].value).startswith(lib_name + '.'):
            out.append((n.lineno, n.args[0].value.split('.')[1]))
    return out

def check(lib:Path, nbs:Path) -> list:
    "The violations: one line each, naming both modules and their notebooks."
    nums, errs = module_numbers(nbs), []
    for p in sorted(lib.glob('*.py')):
        if p.stem.startswith('_'): continue
        if p.stem not in nums: errs.append(f'{p.name}: no notebook exports it (no `#| default_exp {p.stem}`)'); continue
        a, nb_a, dflt_a = nums[p.stem]
        for line, imp in imports_of(p):
            if imp == p.stem or imp.startswith('_'): continue
            if imp not in nums: errs.append(f'{p.name}:{line} imports pneumo_nb.{imp}, which no notebook exports'); continue
            b, nb_b, _ = nums[imp]
            sibling = b == a and p.stem != dflt_a   # a compatibility module may re-export its notebook's own module
            if b > a or (b == a and not sibling):
                errs.append(f'{p.name}:{line}: pneumo_nb.{p.stem} ({nb_a}) imports pneumo_nb.{imp} ({nb_b}): a module may import only '
                            f'modules of lower-numbered notebooks. Move the code down, or the import up.')
    return errs

def self_test() -> int:
    "Plant an upward import inside a function of a copy of the library: the check must fail and name both modules."
    with tempfile.TemporaryDirectory() as d:
        lib = Path(d)/'pneumo_nb'; shutil.copytree(ROOT/'pneumo_nb', lib, ignore=shutil.ignore_patterns('reference', '__pycache__'))
        before = check(lib, ROOT/'nbs')
        with open(lib/'core.py', 'a') as f: f.write('\n\ndef _planted():\n    from pneumo_nb.cli import pneumo_train\n    return pneumo_train\n')
        after = [e for e in check(lib, ROOT/'nbs') if e not in before]
    ok = len(after) == 1 and 'pneumo_nb.core (00_core.ipynb) imports pneumo_nb.cli' in after[0]
    print(('self-test OK: ' if ok else 'self-test FAILED: ') + (after[0] if after else 'the planted import was not caught'))
    return 0 if ok else 1

if __name__ == '__main__':
    if '--self-test' in sys.argv: sys.exit(self_test())
    errs = check(ROOT/'pneumo_nb', ROOT/'nbs')
    for e in errs: print(e, file=sys.stderr)
    n = len([p for p in (ROOT/'pneumo_nb').glob('*.py') if not p.stem.startswith('_')])
    print(f'import order: {n} modules, ' + (f'{len(errs)} violations' if errs else 'every import goes to a lower-numbered notebook'))
    sys.exit(1 if errs else 0)
