"README.md is kept in step with nbs/index.ipynb (regenerate with `python tests/test_readme.py`)."
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render_readme() -> str:
    "README text: the markdown cells of nbs/index.ipynb, in order (not those exported to the package docstring)."
    nb = json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())
    cells = [''.join(c['source']).strip() for c in nb['cells'] if c['cell_type'] == 'markdown']
    cells = [c for c in cells if not c.startswith('#|')]
    return '\n\n'.join(cells) + '\n'


def test_readme_matches_index():
    assert (ROOT / 'README.md').read_text() == render_readme(), 'README.md is stale: run python tests/test_readme.py'


def test_readme_gives_the_two_commands():
    text = (ROOT / 'README.md').read_text()
    assert 'pip install -e ".[onnx]" && modulenas-run' in text
    assert 'nbdev-test && pytest tests/' in text


def test_readme_budget_tables_are_the_committed_results():
    "The per-budget tables in the README are made from benchmarks/results/budgets.json, as `budgets.py` renders it."
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    from budgets import budget_tables
    report = json.loads((ROOT / 'benchmarks' / 'results' / 'budgets.json').read_text())
    assert budget_tables(report).strip() in (ROOT / 'README.md').read_text(), 'README.md budget tables differ from the results file'
    assert (ROOT / 'benchmarks' / 'results' / 'budgets.png').exists()


def test_readme_fidelity_tables_are_the_committed_results():
    "The fidelity tables in the README are made from benchmarks/results/fidelity.json, as `fidelity.py` renders it."
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    from fidelity import fidelity_tables
    report = json.loads((ROOT / 'benchmarks' / 'results' / 'fidelity.json').read_text())
    assert report['complete'], 'the committed fidelity results are from an unfinished run'
    assert fidelity_tables(report).strip() in (ROOT / 'README.md').read_text(), 'README.md fidelity tables differ from the results file'
    assert (ROOT / 'benchmarks' / 'results' / 'fidelity.png').exists()


if __name__ == '__main__':
    (ROOT / 'README.md').write_text(render_readme())
    print('wrote', ROOT / 'README.md', file=sys.stderr)
