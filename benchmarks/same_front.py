"""The same seed gives the same front: a small search with every built-in strategy on the weightless stand-ins
(`modulenas.testing`), its fronts, evaluations and hypervolumes written as JSON.

A change meant to leave the search's behaviour alone (a refactoring, a move) leaves this file unchanged; the test
`tests/test_same_front.py` checks the committed one against the code. Run it on two checkouts and compare:

    python benchmarks/same_front.py --out benchmarks/results/same_front.json
    PYTHONPATH=/path/to/other/checkout python benchmarks/same_front.py --out /tmp/other.json
"""
from __future__ import annotations
import json, tempfile
from pathlib import Path

from fastcore.script import call_parse

from modulenas.search import SearchConfig, search
from modulenas.testing import ToyEvaluator, ToyKB

STRATEGIES = ('nsga2', 'random', 'splice', 'dna', 'growth', 'surrogate')


def same_front(seed: int = 0, pop_size: int = 6, n_gen: int = 3) -> dict:
    "Fronts, evaluated keys and hypervolumes of every built-in strategy on `ToyKB`, with `seed`."
    kb = ToyKB()
    cfg = SearchConfig(strategies=STRATEGIES, pop_size=pop_size, n_gen=n_gen, seed=seed)
    with tempfile.TemporaryDirectory() as d:
        search(Path(d)/'run', kb, ToyEvaluator(kb), cfg, progress=False)
        pareto = json.loads((Path(d)/'run'/'pareto.json').read_text())
    return dict(settings=dict(seed=seed, pop_size=pop_size, n_gen=n_gen, strategies=list(STRATEGIES)),
                **{k: pareto[k] for k in ('fronts', 'evaluated', 'hv_new')})


@call_parse
def main(out: str = 'benchmarks/results/same_front.json',  # where the JSON goes
         seed: int = 0,  # the search's seed
        ):
    "Write the fronts of a small search with every built-in strategy; print one line per strategy."
    report = same_front(seed)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, sort_keys=True, indent=1) + '\n')
    for name in STRATEGIES:
        print(f"{name:10s} evaluated {len(report['evaluated'][name]):3d}  front {len(report['fronts'][name]):2d}  hypervolume {report['hv_new'][name]:.4f}")
    print(f'wrote {out}')
