"The names a user imports from the package itself."
import subprocess, sys, types

import modulenas


def test_every_top_level_name_imports_and_is_not_a_module():
    for name in modulenas.__all__:
        value = getattr(modulenas, name)
        assert not isinstance(value, types.ModuleType), name
        assert getattr(value, '__module__', '').startswith('modulenas.'), name


def test_import_is_cheap_and_unknown_names_fail_clearly():
    code = "import sys, modulenas; assert 'torch' not in sys.modules and 'pymoo' not in sys.modules; modulenas.nothing"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 1 and "has no attribute 'nothing'" in r.stderr


def _module_names():
    "Every public module of the package, subpackages included, by its dotted name."
    import pkgutil
    return {m.name for m in pkgutil.walk_packages(modulenas.__path__, 'modulenas.')
            if not m.name.rsplit('.', 1)[-1].startswith('_')}


def test_package_docstring_names_every_module():
    doc = modulenas.__doc__ + ''.join(__import__(n, fromlist=['_']).__doc__ or '' for n in _module_names() if n.count('.') == 1)
    assert {n for n in _module_names() if f'{n}`' not in doc} == set()


def test_readme_layout_has_a_row_per_module():
    "The README's table of what is in the package names every module, so the layout a newcomer reads is the real one."
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / 'README.md').read_text()
    assert {n for n in _module_names() if f'| `{n}` |' not in text} == set()


def test_every_evaluator_satisfies_the_protocol():
    "The four evaluators of the package offer what `EvaluatorProtocol` writes down."
    from modulenas.adwp import ScreenedEvaluator
    from modulenas.distributed import RayEvaluator
    from modulenas.evaluate import Evaluator, EvaluatorProtocol
    from modulenas.testing import ToyEvaluator
    for cls in (Evaluator, RayEvaluator, ScreenedEvaluator, ToyEvaluator):
        assert issubclass(cls, EvaluatorProtocol), cls.__name__


def test_no_import_cycle():
    "No module of the package imports, at any depth and at any point (lazy imports too), a module that imports it back."
    import ast, pathlib
    root = pathlib.Path(modulenas.__file__).parent
    def name(f):  # modulenas/strategies/growth.py -> modulenas.strategies.growth; a package's __init__ is the package
        parts = ['modulenas', *f.relative_to(root).with_suffix('').parts]
        return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
    files = {name(f): f for f in root.rglob('*.py') if f.name == '__init__.py' or not f.name.startswith('_')}
    graph = {}
    for mod, f in files.items():
        package = mod if f.name == '__init__.py' else mod.rsplit('.', 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = (node.module or '') if node.level == 0 else '.'.join(
                    [*package.split('.')[:len(package.split('.')) - node.level + 1], *([node.module] if node.module else [])])
                deps.add(base)
                deps.update(f'{base}.{a.name}' for a in node.names)
            elif isinstance(node, ast.Import): deps.update(a.name for a in node.names)
        graph[mod] = {d for d in deps if d in files} - {mod, 'modulenas'}
    assert graph['modulenas.strategies.growth'] >= {'modulenas.search', 'modulenas.strategies.nsga2'}  # relative imports resolved
    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for d in graph.get(todo.pop(), ()):
                if d not in seen: seen.add(d); todo.append(d)
        return seen
    cycles = sorted({tuple(sorted((m, d))) for m in graph for d in graph[m] if m in reach(d)})
    assert cycles == [], cycles


def _public_callables():
    "(module, qualified name, callable, its parameters) of every public function, method and dataclass of the package."
    import dataclasses, importlib, inspect
    for mod_name in sorted(_module_names()):
        mod = importlib.import_module(mod_name)
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name, None)
            if obj is None or getattr(obj, '__module__', None) != mod_name: continue
            if inspect.isclass(obj):
                targets = [(obj, obj.__init__)] if dataclasses.is_dataclass(obj) or '__init__' in obj.__dict__ else []
                targets += [(v, v) for k, v in obj.__dict__.items() if not k.startswith('_') and inspect.isfunction(v)]
            elif callable(obj): targets = [(obj, obj)]
            else: continue
            for documented, fn in targets:
                try: sig = inspect.signature(fn)
                except (TypeError, ValueError): continue
                ps = [p for p, v in sig.parameters.items() if p not in ('self', 'cls') and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)]
                yield mod_name, getattr(fn, '__qualname__', name), (obj if dataclasses.is_dataclass(obj) and fn is obj.__init__ else documented), ps


def test_most_public_callables_document_every_parameter():
    "At least 80% of the public callables that take parameters document each one (a comment beside it, as nbdev reads them)."
    from fastcore.docments import docments
    rows = [(m, q, all(docments(obj).get(p) for p in ps)) for m, q, obj, ps in _public_callables() if ps]
    share = sum(ok for *_, ok in rows) / len(rows)
    print(f'{share:.0%} of {len(rows)} public callables document every parameter')
    assert share >= 0.8, [f'{m}.{q}' for m, q, ok in rows if not ok]


def test_no_public_function_takes_more_than_about_ten_parameters():
    "Settings travel in dataclasses (their fields are documented one by one), so no public function needs more than 12 parameters."
    import dataclasses
    big = [(m, q, len(ps)) for m, q, obj, ps in _public_callables() if not dataclasses.is_dataclass(obj) and len(ps) > 12]
    assert big == [], big


def test_most_export_cells_are_followed_by_a_test():
    "The notebooks' rhythm: at least 70% of the exported cells that define something (not only imports) are followed by a cell that checks something."
    import json, re
    from pathlib import Path
    n = followed = 0
    for nb in sorted((Path(__file__).resolve().parents[1] / 'nbs').glob('[0-9]*.ipynb')):
        cells = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
        for src, nxt in zip(cells, cells[1:] + ['']):
            code = [l for l in src.splitlines() if l.strip() and not l.lstrip().startswith(('#', 'import ', 'from '))]
            if re.match(r'\s*#\|\s*export\b', src) and code:
                n += 1; followed += bool(re.search(r'\btest_\w+\(|\bassert\b', nxt))
    print(f'{followed} of {n} exported cells are followed by a test')
    assert followed / n >= 0.7
