#!/usr/bin/env python
"""Seams against validation accuracy, side by side for search runs.

A seam is a place where a candidate's module is followed by one cut from another parent (`modulenas.strategies.splice.seams`);
each is a stitching adapter fitted on a few calibration images. For each run folder this prints, over its first
`--first` evaluations (all when 0, so that runs of different lengths compare at one budget): the validation
hypervolume of error and parameters (one set of scales for all runs, with and without the parents), the best
validation accuracy under each parameter budget (of any candidate, then of a new network: not a parent), and the candidates grouped by
their number of seams (count, best and median validation accuracy).

    python benchmarks/seams.py runs/vs_parents/search runs/splice --first 64
"""
from __future__ import annotations
import argparse, json
from pathlib import Path

import numpy as np

from modulenas.arch import Candidate
from modulenas.core import render_table
from modulenas.search import Archive
from modulenas.strategies.splice import seams

from _common import Formatter, best_under, side_by_side_rows, write_report


def records(run: Path, first: int) -> dict:
    "The first `first` archive records of `run` (all when 0), by key, in the order they were evaluated."
    recs = list(Archive(run/'evaluations.jsonl').records.values())
    return {r['key']: r for r in (recs[:first] if first else recs)}


def parent_keys(recs: dict) -> set:
    "Keys of the candidates that are whole parents (no seam, every module in its parent's order)."
    out = set()
    for k, r in recs.items():
        ids = Candidate.from_dict(r['candidate']).ids
        pos = [(m.rpartition(':')[0], int(m.rpartition(':')[2])) for m in ids]
        if len({p for p, _ in pos}) == 1 and [i for _, i in pos] == list(range(len(ids))): out.add(k)
    return out


def by_seams(recs: dict, parents: set) -> list[dict]:
    "New candidates grouped by seams (0, 1, 2, 3 or more): how many, the best and the median validation accuracy."
    groups = {}
    for k, r in recs.items():
        if k in parents or r['result'].get('error') is not None: continue
        n = seams(Candidate.from_dict(r['candidate']))
        groups.setdefault(min(n, 3), []).append(r['result']['score'])
    return [dict(seams='3+' if n == 3 else str(n), n=len(v), best=f'{max(v):.3f}', median=f'{float(np.median(v)):.3f}')
            for n, v in sorted(groups.items())]


def main(runs: list[str], first: int, param_budgets: list, out: str | None) -> dict:
    loaded = [(Path(r), records(Path(r), first)) for r in runs]
    parents = set().union(*(parent_keys(recs) for _, recs in loaded))
    rows = side_by_side_rows([(dict(run=str(p), candidates=len(recs)), recs) for p, recs in loaded], param_budgets, parents)
    for row, (_, recs) in zip(rows, loaded):
        new = {k: r for k, r in recs.items() if k not in parents}
        for b in param_budgets:
            best = best_under(new, b)
            row[f'best new <= {b / 1e6:g}M'] = '-' if best is None else f'{best:.4f}'
    print(render_table(rows, list(rows[0]), title=f'first {first or "all"} evaluations of each run'))
    report = dict(first=first, rows=rows, seams={})
    for p, recs in loaded:
        groups = report['seams'][str(p)] = by_seams(recs, parents)
        print(render_table(groups, ['seams', 'n', 'best', 'median'], title=f'{p}: new candidates by seams'))
    if out: write_report(out, report)
    return report


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    ap.add_argument('runs', nargs='+', help='search run folders (each with its evaluations.jsonl)')
    ap.add_argument('--first', type=int, default=0, help='compare the first this many evaluations of each run (0: all)')
    ap.add_argument('--param-budgets', type=lambda v: [float(x) for x in v.split(',')], default=[464_154, 900_000],
                    help='parameter budgets to report the best new network under, comma-separated')
    ap.add_argument('--out', type=str, default=None, help='JSON results file')
    a = ap.parse_args()
    main(a.runs, a.first, a.param_budgets, a.out)
