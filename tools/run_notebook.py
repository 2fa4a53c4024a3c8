"""Execute a notebook in place with its outputs, skipping the cells tagged `#| slow` (their outputs are cleared).

    python tools/run_notebook.py nbs/23_search.ipynb [--slow | --keep_slow]

`jupyter nbconvert --execute` runs every cell, slow ones included; this runs what `nbdev_test` runs, from the notebook's
folder, so a page can be refreshed without its long training or searches. `--slow` runs every cell.
"""
import argparse, re, nbformat
from pathlib import Path
from nbclient import NotebookClient

class SkipSlow(NotebookClient):
    def __init__(self, nb, slow=False, keep=False, **kw): super().__init__(nb, **kw); self.slow, self.keep = slow, keep
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if not self.slow and cell.cell_type == 'code' and re.search(r'^#\|\s*slow\b', cell.source, re.M):
            if not self.keep: cell.outputs, cell.execution_count = [], None
            return cell
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('path'); ap.add_argument('--slow', action='store_true', help='run the slow cells too')
    ap.add_argument('--keep_slow', action='store_true', help='skip the slow cells but keep their committed outputs')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds per cell')
    a = ap.parse_args()
    p = Path(a.path)
    nb = nbformat.read(p, as_version=4)
    SkipSlow(nb, slow=a.slow, keep=a.keep_slow, timeout=a.timeout, kernel_name='python3', resources={'metadata': {'path': str(p.parent)}}).execute()
    nbformat.write(nb, p)
    print(f'executed {p}' + ('' if a.slow else ' (cells tagged slow skipped, ' + ('their outputs kept)' if a.keep_slow else 'their outputs cleared)')))
