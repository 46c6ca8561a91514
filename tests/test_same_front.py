"The same seed gives the same front as the committed record (benchmarks/results/same_front.json)."
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_same_seed_same_front():
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    from same_front import same_front
    committed = json.loads((ROOT / 'benchmarks' / 'results' / 'same_front.json').read_text())
    now = json.loads(json.dumps(same_front(**{k: committed['settings'][k] for k in ('seed', 'pop_size', 'n_gen')}), sort_keys=True))
    assert now == committed, 'the search no longer finds what it found: if that is meant, rerun python benchmarks/same_front.py'
