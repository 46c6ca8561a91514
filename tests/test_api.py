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
