#!/usr/bin/env python
"""What online adaptation (`modulenas.adapt`) does to the networks it is meant to help, at several budgets.

For a finished search run (a new task, say `modulenas-search --data ...`), the elite of its first strategy (its best
`--elite` candidates) chooses the `--modules` modules it uses most, as the search's adaptation does. Then, for every
budget in `--steps`, those modules are fine-tuned inside the best elite candidate that uses them, from the original
weights, and two things are scored on the run's validation images, with the run's evaluator:

- that candidate itself, built from its new versions (what the training saw);
- every other elite candidate that holds one of the modules, built from the versions (what the search reuses them
  in: networks the versions were not trained in).

Each budget's versions go into the run's knowledge base like the search's do (a copy keeps the original clean).

CPU (2 cores), on the Tiny-ImageNet run of the README (about 15 minutes for 40 and 200 steps):
    python benchmarks/adaptation.py runs/tin/search --steps 40,200
"""
from __future__ import annotations
import argparse, json, time
from pathlib import Path

import numpy as np

from _common import Formatter, write_report
from modulenas.core import render_table
from modulenas.arch import Candidate, apply_versions
from modulenas.adapt import choose_modules
from modulenas.spec import build_from_setup
from modulenas.search import best_order


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    ap.add_argument('run_dir', help='a finished search run folder')
    ap.add_argument('--steps', type=lambda v: [int(x) for x in v.split(',')], default=[40, 200], help='budgets, comma-separated')
    ap.add_argument('--modules', type=int, default=2, help='modules fine-tuned')
    ap.add_argument('--elite', type=int, default=8, help='best candidates whose modules are counted')
    ap.add_argument('--lr', type=float, default=0.01, help='learning rate of the adaptation')
    ap.add_argument('--out', type=str, default='runs/adaptation.json', help='JSON results')
    args = ap.parse_args()
    run = Path(args.run_dir)
    cfg = json.loads((run/'config.json').read_text())
    recs = [json.loads(l) for l in (run/'evaluations.jsonl').read_text().splitlines() if l.strip()]
    first = cfg['search']['strategies'][0]
    mine = [r for r in recs if r['phase'] == first and r['result']['error'] is None and max(r['G']) <= 0]
    elite = [Candidate.from_dict(mine[i]['candidate']) for i in best_order([r['F'] for r in mine], [r['key'] for r in mine])[:args.elite]]
    score = {r['key']: r['result']['score'] for r in recs}
    kb, ev = build_from_setup(cfg['setup'])
    picks = choose_modules(elite, kb, args.modules)
    trained_in = picks[0][1]
    mids = [m for m, c in picks if c.key == trained_in.key]
    others = [c for c in elite if c.key != trained_in.key and set(c.ids) & set(mids)]
    print(f"elite of {len(elite)} from {first}; adapting {', '.join(mids)} inside {trained_in.key} "
          f"(validation {score[trained_in.key]:.4f}); {len(others)} other elite candidates hold one of them")
    rows = []
    for steps in args.steps:
        t0 = time.perf_counter()
        made = ev.adapt(trained_in, mids, steps=steps, lr=args.lr, seed=0, detail=dict(benchmark='adaptation'), progress=True)
        versions = {kb.original(m): made[m] for m in mids}
        own = ev.evaluate(apply_versions(trained_in, versions)).score
        deltas = [ev.evaluate(apply_versions(c, versions)).score - score[c.key] for c in others]
        rows.append(dict(steps=steps, seconds=round(time.perf_counter() - t0), loss=f"{made['loss'][0]:.3f} -> {made['loss'][1]:.3f}",
                         **{'trained-in val before': f'{score[trained_in.key]:.4f}', 'after': f'{own:.4f}',
                            'others: mean change': f'{np.mean(deltas):+.4f}' if deltas else '-',
                            'others better / worse': f'{sum(d > 0 for d in deltas)} / {sum(d < 0 for d in deltas)}'}))
        print(render_table(rows[-1:]))
    print(render_table(rows))
    write_report(args.out, dict(run=str(run), modules=mids, trained_in=trained_in.key, n_val=cfg['setup']['data']['n_val'],
                                others=[c.key for c in others], rows=rows))


if __name__ == '__main__':
    main()
