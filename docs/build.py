#!/usr/bin/env python
"""Build the documentation site from the notebooks, offline.

nbdev processes the notebooks into `_proc/` (it adds and runs the `show_doc` cells and turns the `#|` directives
into Quarto cell options); each processed notebook is then copied with those options applied (what Quarto would
do), and mkdocs-material with mkdocs-jupyter renders the copies, saved outputs and plots included, into a static
site with navigation and search. Nothing is executed but the cells nbdev needs for `show_doc`. A saved plot takes its
alternative text from its cell's `#| fig-alt:` line; without one (or with a broken internal link) the build fails.

    python docs/build.py                 # the site in _site/
    python docs/build.py --out DIR       # somewhere else
    python docs/build.py --serve         # build, then serve it on http://127.0.0.1:8000
    python docs/build.py --no-strict     # report broken links without failing
"""
import argparse, ast, contextlib, functools, html, http.server, logging, re, sys, tempfile, time, warnings
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT/'docs'/'mkdocs.yml'
NBS, PROC, SITE = ROOT/'nbs', ROOT/'_proc', ROOT/'_site'
SECTIONS = {'tutorials': 'Walkthroughs', '': 'API reference'}  # after the landing page, in this order

# --- nbdev's processing ---------------------------------------------------------------------------------

@contextlib.contextmanager
def _doc_cells_only():
    """Run only what `show_doc` needs: nbdev also runs every cell holding an import, and a cell that mixes imports
    with tests needs cells nbdev does not run. Cells of imports alone, exported cells and `show_doc` cells still run."""
    import nbdev.processors as procs
    nbdev_rule = getattr(procs, '_do_eval', None)
    if nbdev_rule is None or not hasattr(procs, '_show_docs'):
        sys.exit(f'{procs.__name__} has no _do_eval or _show_docs: {__file__} does not know this version of nbdev')

    def rule(cell):
        trees = cell.parsed_() if cell.cell_type == 'code' and cell.source else None
        if trees and not cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'} and not procs._show_docs(trees) \
           and not all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in trees): return None
        return nbdev_rule(cell)

    procs._do_eval = rule
    try: yield
    finally: procs._do_eval = nbdev_rule


def process_notebooks(force: bool = False) -> Path:
    "nbdev's `proc_nbs` into `_proc/`, in this process; `force` (or a newer build script) redoes every notebook."
    from nbdev.serve import proc_nbs
    force = force or (PROC.exists() and Path(__file__).stat().st_mtime > PROC.stat().st_mtime)
    with _doc_cells_only():
        try: return proc_nbs(str(NBS), n_workers=0, force=force)
        except Exception as e: sys.exit(f'nbdev could not process the notebooks: {e}')

# --- Quarto's part: from processed notebooks to pages ---------------------------------------------------

_OPTION = re.compile(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
_ATTR_LINK = re.compile(r'\[([^\]\n]*)\]\(([^)\s]+)\)\{([^}\n]*)\}')  # pandoc's [text](url){attributes}
_HEADING = re.compile(r'^#{1,6} .*$', re.MULTILINE)


def pop_options(cell) -> dict:
    "Remove the leading `#| key: value` lines of `cell` and return them as a dict."
    lines, opts = cell.source.splitlines(keepends=True), {}
    while lines and (m := _OPTION.match(lines[0])):
        opts[m[1]] = m[2].strip('\'"'); lines.pop(0)
    cell.source = ''.join(lines)
    return opts


def with_alt(out, alt: str):
    "Output `out` with its PNG or JPEG image as an HTML image whose alternative text is `alt` (nbconvert writes none)."
    data = out.get('data', {})
    for mime in ('image/png', 'image/jpeg'):
        if mime in data:
            img = (f'<img class="plot" src="data:{mime};base64,{"".join(data[mime].split())}" '
                   f'alt="{html.escape(alt, quote=True)}">')
            return nbformat.v4.new_output('display_data', data={'text/html': img})
    return out


def _description(src: Path) -> str:
    "The whole `> ...` lead under the `# title` of notebook `src` (nbdev's front matter keeps its first line only)."
    cells = nbformat.v4.reads(src.read_text(encoding='utf-8')).cells if src.exists() else []
    first = next((c for c in cells if c.cell_type == 'markdown'), None)
    if first is None or not re.match(r'#\s', first.source): return ''
    return ' '.join(re.findall(r'^>\s*(.*?)\s*$', first.source, re.MULTILINE))


def _widget_state(nb) -> dict:
    "The saved widget state of `nb` (nbdev's processing adds an empty one to every notebook)."
    return nb.metadata.get('widgets', {}).get('application/vnd.jupyter.widget-state+json', {}).get('state', {})


class Pages:
    "Writes processed notebooks as pages: Quarto cell options applied, nbdev's links to the published docs made relative."
    def __init__(self, proc: Path, stage: Path):
        from nbdev.config import get_config
        cfg = get_config(NBS)
        self.proc, self.stage = proc, stage
        self.missing_alt = []  # (page, first line of the cell) of images without alternative text
        self.doc_url = re.compile(re.escape(cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/')) + r'/([^)#\s"\'<>]*)(#[^)\s"\'<>]*)?')

    def _local(self, m, depth: int) -> str:
        "A link into the published docs, relative to a page `depth` folders down, its anchor as mkdocs-jupyter makes ids."
        from mkdocs_jupyter.utils import slugify
        return '../' * depth + (m[1] or 'index.html') + ('#' + slugify(m[2][1:]) if m[2] else '')

    def markdown(self, text: str, depth: int) -> str:
        "`text` with links into the published docs made relative, and pandoc-attributed links as HTML."
        text = self.doc_url.sub(lambda m: self._local(m, depth), text)
        return _ATTR_LINK.sub(lambda m: f'<a href="{m[2]}" {m[3]}>{m[1]}</a>', text)

    def cells(self, cells: list, depth: int, page: str = ''):
        "The cells of a page `depth` folders down: `output: asis` outputs as Markdown, `fig-alt` on its images, the other cell options applied."
        for cell in cells:
            opts = pop_options(cell)
            if opts.get('include') == 'false': continue
            if cell.cell_type == 'markdown': cell.source = self.markdown(cell.source, depth)
            if cell.cell_type != 'code': yield cell; continue
            if opts.get('output') == 'asis':
                for out in cell.outputs:
                    if 'text/markdown' in out.get('data', {}):
                        md = _HEADING.sub(lambda m: m[0].replace('_', r'\_'), out.data['text/markdown'])  # __iter__ is no bold
                        yield nbformat.v4.new_markdown_cell(self.markdown(md, depth))
                continue
            if opts.get('output') == 'false': cell.outputs = []
            if opts.get('echo') == 'false': cell.metadata.setdefault('tags', []).append('remove_input')
            if alt := opts.get('fig-alt'): cell.outputs = [with_alt(o, alt) for o in cell.outputs]
            elif any(k.startswith('image/') for o in cell.outputs for k in o.get('data', {})): self.missing_alt.append((page, cell.source.partition('\n')[0]))
            yield cell

    def write(self, src: Path) -> tuple[str, str]:
        "Write the page of processed notebook `src` under nbdev's name for it; return (title, page path)."
        nb = nbformat.v4.reads(src.read_text(encoding='utf-8'))  # unvalidated: nbdev leaves keys the format lacks
        for cell in nb.cells:  # what nbdev's processing adds outside the notebook format: the show_doc mark, timings
            cell.pop('has_sd', None); cell.metadata.pop('execution', None)
        rel = src.relative_to(self.proc)
        has_fm = nb.cells and nb.cells[0].cell_type == 'raw' and nb.cells[0].source.startswith('---')
        fm = (yaml.safe_load(nb.cells.pop(0).source.strip().strip('-')) if has_fm else None) or {}
        title, lead = fm.get('title', rel.stem), _description(NBS/rel) or fm.get('description')
        page = (rel.parent/Path(fm.get('output-file', rel.stem)).stem).with_suffix('.ipynb').as_posix()
        nb.cells = [nbformat.v4.new_markdown_cell(f'# {title}' + (f'\n\n> {lead}' if lead else '')),
                    *self.cells(nb.cells, len(rel.parts) - 1, rel.as_posix())]
        if not _widget_state(nb): nb.metadata.pop('widgets', None)  # no widgets: no widget script from the web
        (self.stage/page).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, self.stage/page)
        return title, page

    def nav(self) -> list:
        "Write every page; the mkdocs nav: the landing page, then one section per folder of `SECTIONS` that has notebooks."
        if not (self.proc/'index.ipynb').exists(): sys.exit(f'{NBS/"index.ipynb"} is missing: it makes the landing page')
        nav = [{'Home': self.write(self.proc/'index.ipynb')[1]}]
        for folder, name in SECTIONS.items():
            nbs = sorted(p for p in (self.proc/folder).glob('*.ipynb') if p.name != 'index.ipynb')
            if nbs: nav.append({name: [{title: page} for title, page in map(self.write, nbs)]})
        placed = {self.proc/'index.ipynb'} | {p for folder in SECTIONS for p in (self.proc/folder).glob('*.ipynb')}
        if left := sorted(str(p.relative_to(self.proc)) for p in self.proc.rglob('*.ipynb') if p not in placed):
            sys.exit(f'notebooks in no section of the site: {", ".join(left)}; add their folder to SECTIONS in {__file__}')
        return nav

# --- mkdocs ---------------------------------------------------------------------------------------------

def _check_out(out: Path):
    "Refuse to let mkdocs empty a folder that is not a site it built (it clears its output folder)."
    if out.is_dir() and any(out.iterdir()) and not (out/'search'/'search_index.json').exists():
        sys.exit(f'--out {out}: the folder is not empty and holds no site built here; choose a new or empty folder')


def build(out: Path = SITE, strict: bool = True, force: bool = False) -> Path:
    "Process the notebooks with nbdev, write the pages and render the site into `out` (fails on a broken link if `strict`)."
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException
    out = Path(out).absolute()
    _check_out(out)
    t0 = time.time()
    proc = process_notebooks(force)
    print(f'notebooks processed by nbdev into {proc} ({time.time() - t0:.0f} s)')
    with tempfile.TemporaryDirectory(prefix='modulenas-docs-') as stage:
        pages = Pages(proc, Path(stage)); nav = pages.nav()
        if pages.missing_alt and strict:
            sys.exit('site build failed: images without alternative text (give their cell a `#| fig-alt: ...` line): '
                     + '; '.join(f'{page}, the cell {line!r}' for page, line in pages.missing_alt))
        try: mkdocs_build(load_config(str(CONFIG), docs_dir=stage, site_dir=str(out), nav=nav, strict=strict))
        except MkDocsException as e: sys.exit(f'site build failed: {e}')
    print(f'site built in {out} ({time.time() - t0:.0f} s)')
    return out


def serve(site: Path, port: int):
    "Serve `site` on http://127.0.0.1:`port` until interrupted."
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(('127.0.0.1', port), handler) as httpd:
        print(f'serving {site} on http://127.0.0.1:{port}/ (Ctrl-C stops)')
        with contextlib.suppress(KeyboardInterrupt): httpd.serve_forever()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', type=Path, default=SITE, help='output folder (default: _site/)')
    p.add_argument('--no-strict', dest='strict', action='store_false', help='warn about broken links instead of failing')
    p.add_argument('--force', action='store_true', help="reprocess every notebook (ignore nbdev's _proc/ cache)")
    p.add_argument('--serve', action='store_true', help='serve the site after building it')
    p.add_argument('--port', type=int, default=8000, help='port for --serve (default: 8000)')
    args = p.parse_args(argv)
    logging.basicConfig(format='%(levelname)s: %(message)s', level=logging.WARNING)
    warnings.filterwarnings('ignore', category=DeprecationWarning)
    site = build(args.out, strict=args.strict, force=args.force)
    if args.serve: serve(site, args.port)


if __name__ == '__main__': main()
