"""Write README.md from nbs/index.ipynb without Quarto (nbdev_readme needs Quarto, which is not always installed).

Hidden cells (`#| hide`) are dropped and cell directives are stripped, as nbdev_readme does. Relative links in
index.ipynb point from nbs/ (to notebooks: `tutorials/01_quickstart.ipynb`, `00_core.ipynb`), which is what Jupyter,
GitHub's notebook view and Quarto (it maps a link to a notebook onto its page) resolve; in README.md they are
rewritten to resolve from the repository root (`nbs/tutorials/01_quickstart.ipynb`), as GitHub shows README.md.
Usage: python tools/make_readme.py
"""
import re, sys
from pathlib import Path
import nbformat

root = Path(__file__).resolve().parents[1]
nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
def root_links(md):
    "Relative links (not URLs, anchors or absolute paths) rewritten from nbs/ to the repository root."
    return re.sub(r'(\]\()(?![a-zA-Z][a-zA-Z0-9+.-]*:|#|/)([^)\s]+)', lambda m: m.group(1) + (m.group(2)[3:] if m.group(2).startswith('../') else 'nbs/' + m.group(2)), md)

out = []
for c in nb.cells:
    src = c.source
    dirs = re.findall(r'^#\|\s*(.*)$', src, flags=re.M)
    if any(d.strip().startswith(('hide', 'include: false')) for d in dirs): continue
    if c.cell_type == 'markdown':
        out.append(root_links(src.strip()))
        continue
    code = re.sub(r'^#\|.*\n?', '', src, flags=re.M).strip()
    if code and not any(d.strip().startswith('echo: false') for d in dirs): out.append(f"```python\n{code}\n```")
    for o in c.get('outputs', []):
        data = o.get('data', {})
        if o.get('output_type') == 'stream' and o.get('name') == 'stderr': continue   # warnings are not documentation
        if o.get('output_type') == 'stream': out.append("    " + o['text'].rstrip().replace('\n', '\n    '))
        elif 'text/markdown' in data:
            md = ''.join(data['text/markdown']).strip()
            if md.startswith('```html') and md.endswith('```'): md = md[len('```html'):-3].strip()   # fastprogress tables
            out.append(root_links(md))
        elif 'text/plain' in data and 'text/html' not in data: out.append("    " + ''.join(data['text/plain']).rstrip().replace('\n', '\n    '))
        elif 'text/html' in data: out.append(re.sub(r'<style[^>]*>.*?</style>\s*', '', ''.join(data['text/html']), flags=re.S).strip())
text = "\n\n".join(s for s in out if s) + "\n"
text = text.replace("\n> ", "\n> ", 1)
(root/'README.md').write_text(text)
print(f"README.md written from nbs/index.ipynb ({len(text)} characters)")
