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


def test_package_docstring_names_every_module():
    import pkgutil
    names = {m.name for m in pkgutil.iter_modules(modulenas.__path__) if not m.name.startswith('_')}
    assert {n for n in names if f'modulenas.{n}`' not in modulenas.__doc__} == set()


def test_readme_layout_has_a_row_per_module():
    "The README's table of what is in the package names every module, so the layout a newcomer reads is the real one."
    import pkgutil
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / 'README.md').read_text()
    names = {m.name for m in pkgutil.iter_modules(modulenas.__path__) if not m.name.startswith('_')}
    assert {n for n in names if f'| `modulenas.{n}` |' not in text} == set()


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
    graph = {}
    for f in root.glob('*.py'):
        if f.name.startswith('_'): continue
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                mod = node.module if node.level == 0 else f'modulenas.{node.module}'
                if node.level and node.module is None: continue
                deps.add(mod)
                deps.update(f'{mod}.{a.name}' for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level:  # from . import x
                deps.update(f'modulenas.{a.name}' for a in node.names)
            elif isinstance(node, ast.Import): deps.update(a.name for a in node.names)
        graph[f'modulenas.{f.stem}'] = {d for d in deps if d in {f'modulenas.{g.stem}' for g in root.glob('*.py')}} - {f'modulenas.{f.stem}'}
    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for d in graph.get(todo.pop(), ()):
                if d not in seen: seen.add(d); todo.append(d)
        return seen
    cycles = sorted({tuple(sorted((m, d))) for m in graph for d in graph[m] if m in reach(d)})
    assert cycles == [], cycles
