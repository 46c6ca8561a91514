#!/usr/bin/env python
"""Every search strategy side by side on one knowledge base, one set of validation images and one budget of true
evaluations, several seeds each, in two parts.

1. Two objectives (validation error, parameters). Each strategy of `--strategies` runs alone at `--budget`
   distinct candidates for each seed of `--seeds`. Reported per strategy (mean and range over the seeds): the
   hypervolume every `--pop-size` true evaluations (one plot), the final hypervolume and that
   of the new networks alone (parents left out), the best validation accuracy under two parameter budgets, and the
   wall time.
2. Four objectives (error, parameters, FLOPs, measured latency), for the `--four` strategies (default: the two
   with the best mean final hypervolume in part 1), the same way; strategies that breed with pymoo use NSGA-III.

Hypervolumes are computed afresh from the archives on one set of scales per part (every run's feasible points),
reference point 1.1 in every normalised objective, so they compare across strategies and seeds.

A candidate several runs ask for is evaluated once: the evaluator is deterministic (the same calibration images,
the same closed-form fits), so later runs read its result from a shared cache. A run's wall time is therefore
its own time outside the evaluator plus the evaluation seconds (as the evaluator measured them) of every
candidate it asked for, as if it had evaluated each of them itself. Latency is measured once per candidate
(part 2) and shared the same way. `dna` keeps its block scores in the knowledge base: its first run pays for
them, later seeds read them back (its range of wall times shows both).

Nothing is lost on a crash: every run keeps its folder beside the results file, a finished run (its folder holds
`bench.json`) is read back instead of run again, an unfinished one is resumed, and every evaluation in the folders
fills the cache first. Delete the folder beside the results file to measure afresh.

The knowledge base is written to (kept adapters, dna's block scores): pass a copy to keep the original as it was.

CPU (2 cores; about an hour with the defaults):
    cp -r runs/kb runs/kb-strategies
    python benchmarks/strategies.py --kb runs/kb-strategies --threads 2
"""
from __future__ import annotations
import argparse, json, time
from pathlib import Path

import numpy as np
import torch

from modulenas.core import render_table
from modulenas.data import get_splits
from modulenas.evaluate import EvalConfig, EvalResult, Evaluator, zoo_candidates
from modulenas.search import SearchConfig, hv_scales, hypervolume, search, strategy_state

from _common import Formatter, best_under, open_kb, write_report


class SharedEvaluator:
    "An evaluator that evaluates each candidate once across runs (its results' `wall_s` say how long each took)."
    def __init__(self, inner: Evaluator, folder: Path):
        self.inner, self.cache, self.busy = inner, {}, 0.0
        for log in sorted(folder.glob('*/evaluations.jsonl')):  # what earlier (or interrupted) runs evaluated
            for line in log.read_text().splitlines():
                try: rec = json.loads(line)
                except ValueError: continue  # a torn last line
                self.cache.setdefault(rec['key'], EvalResult.from_dict(rec['result']))
        self.preloaded = len(self.cache)
    def __getattr__(self, name):
        "The inner evaluator's attributes (teacher cache, data ...: dna reads them), except `evaluate_many`: the search then calls `evaluate`, through the cache."
        if name == 'evaluate_many' or name.startswith('__'): raise AttributeError(name)
        return getattr(self.inner, name)
    def seconds(self, key: str) -> float: return self.cache[key].wall_s or 0.0
    def evaluate(self, cand, raise_errors=False):
        t0 = time.perf_counter()
        if cand.key not in self.cache: self.cache[cand.key] = self.inner.evaluate(cand, raise_errors=raise_errors)
        self.busy += time.perf_counter() - t0
        return self.cache[cand.key]


def run_one(kb, ev: SharedEvaluator, runs: Path, strategy: str, seed: int, objectives: tuple, budget: int, pop: int) -> dict:
    "A search of `strategy` alone; its archive records in the order asked for and its wall time (see the docstring)."
    run_dir, busy0, t0 = runs/f'{strategy}-{seed}', ev.busy, time.perf_counter()
    done = json.loads((run_dir/'bench.json').read_text()) if (run_dir/'bench.json').exists() else None
    resumed = done is None and (run_dir/'evaluations.jsonl').exists()
    cfg = SearchConfig(objectives=objectives, strategies=(strategy,), pop_size=pop, budget=budget, seed=seed)
    res = search(run_dir, kb, ev, cfg, progress=False)
    own = done['own_s'] if done else time.perf_counter() - t0 - (ev.busy - busy0)
    if not done: (run_dir/'bench.json').write_text(json.dumps(dict(own_s=own, resumed=resumed)))
    keys = res.evaluated[strategy]
    eval_s = sum(ev.seconds(k) for k in keys)
    state = strategy_state(res.run_dir, strategy) or {}
    return dict(strategy=strategy, seed=seed, keys=keys, records={k: res.archive[k] for k in keys}, own_s=own,
                eval_s=eval_s, wall_s=own + eval_s, resumed=resumed or bool(done and done.get('resumed')),
                log=state.get('log'), history=state.get('history'))


def _objectives(res: dict, objectives: tuple) -> list:
    "The objective values of an archived result."
    vals = dict(error=1 - res['score'], params=res['params'], flops=res['flops'], latency=res.get('latency_ms'))
    return [float(vals[o]) if vals[o] is not None else float('nan') for o in objectives]


def curves(runs: list[dict], objectives: tuple, parents: set, step: int, budget: int) -> dict:
    "Per run: the hypervolume after every `step` true evaluations up to `budget` (a run that stopped short keeps its last value), and the final ones (all, new networks alone), on shared scales."
    def F(recs):
        rows = np.array([_objectives(r['result'], objectives) for r in recs if r['result'].get('error') is None
                         and max(r['G']) <= 0], dtype=float).reshape(-1, len(objectives))
        return rows[~np.isnan(rows).any(axis=1)]
    scales = hv_scales(np.concatenate([F(list(r['records'].values())) for r in runs]), objectives)
    marks = sorted(set(range(step, budget + 1, step)) | {budget})
    for r in runs:
        recs = [r['records'][k] for k in r['keys']]
        r['hv_curve'] = [(n, hypervolume(F(recs[:n]), scales)) for n in marks]
        r['hv'] = r['hv_curve'][-1][1]
        r['hv_new'] = hypervolume(F([x for x in recs if x['key'] not in parents]), scales)
    return dict(scales=scales.tolist())


def table(runs: list[dict], param_budgets: list) -> list[dict]:
    "One row per strategy: mean [min, max] over seeds of the final hypervolumes, best accuracy under each budget, seconds."
    out = []
    for s in dict.fromkeys(r['strategy'] for r in runs):
        rs = [r for r in runs if r['strategy'] == s]
        fmt = lambda v, d=4: f"{np.mean(v):.{d}f} [{min(v):.{d}f}, {max(v):.{d}f}]"
        row = {'strategy': s, 'seeds': len(rs), 'evaluations': f"{np.mean([len(r['keys']) for r in rs]):.0f}",
               'hypervolume': fmt([r['hv'] for r in rs]), 'new networks alone': fmt([r['hv_new'] for r in rs])}
        for b in param_budgets:
            best = [best_under(r['records'], b) for r in rs]
            row[f'best val <= {b / 1e6:g}M'] = '-' if None in best else fmt(best)
        row['wall s'] = fmt([r['wall_s'] for r in rs], 0)
        row['own s'] = fmt([r['own_s'] for r in rs], 1)
        out.append(row)
    return out


def plot(runs: list[dict], title: str, path: Path) -> None:
    "Hypervolume against true evaluations: each strategy's mean over seeds, its range shaded."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for s in dict.fromkeys(r['strategy'] for r in runs):
        rs = [r for r in runs if r['strategy'] == s]
        x = [n for n, _ in rs[0]['hv_curve']]  # the same marks for every run
        Y = np.array([[v for _, v in r['hv_curve']] for r in rs])
        line, = ax.plot(x, Y.mean(0), 'o-', ms=3, label=s)
        ax.fill_between(x, Y.min(0), Y.max(0), color=line.get_color(), alpha=0.15)
    ax.set_xlabel('true evaluations'); ax.set_ylabel('hypervolume (shared scales)'); ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8); fig.savefig(path, dpi=110, bbox_inches='tight'); plt.close(fig)
    print(f'wrote {path}')


def part(kb, ev: SharedEvaluator, runs_dir: Path, strategies: list, seeds: list, objectives: tuple, budget: int,
         pop: int, parents: set, param_budgets: list, title: str, png: Path) -> tuple[list, list, dict]:
    runs = []
    for seed in seeds:
        for s in strategies:
            t0 = time.perf_counter()
            runs.append(run_one(kb, ev, runs_dir, s, seed, objectives, budget, pop))
            print(f"{s} seed {seed}: {len(runs[-1]['keys'])} candidates, {time.perf_counter() - t0:.0f} s here "
                  f"({len(ev.cache)} evaluated so far, {ev.preloaded} read from earlier runs)", flush=True)
    info = curves(runs, objectives, parents, pop, budget)
    rows = table(runs, param_budgets)
    print(render_table(rows))
    plot(runs, title, png)
    return runs, rows, info


def main(kb: str, models: str, strategies: list, four: list | None, seeds: list, budget: int, pop_size: int, n_calib: int,
         n_val: int, param_budgets: list, device: str, threads: int | None, out: str, skip_four: bool):
    if threads: torch.set_num_threads(threads)
    knowledge = open_kb(kb, models)
    data = get_splits('cifar10', n_calib=n_calib, n_val=n_val, seed=0, protocol='test-half')
    parents = {c.key for c in zoo_candidates(knowledge)}
    runs_dir = Path(out).with_suffix('')
    two = SharedEvaluator(Evaluator(knowledge, data, EvalConfig(n_calib=n_calib, raw=False, latency_repeats=0), device),
                          runs_dir/'two')
    runs2, rows2, info2 = part(knowledge, two, runs_dir/'two', strategies, seeds, ('error', 'params'), budget, pop_size,
                               parents, param_budgets, f'error and parameters, {len(seeds)} seeds (mean, range)',
                               runs_dir.with_name(runs_dir.name + '-two.png'))
    report = dict(args=dict(kb=kb, models=models, strategies=strategies, seeds=seeds, budget=budget, pop_size=pop_size, n_calib=n_calib,
                            n_val=n_val, param_budgets=param_budgets, device=device, threads=threads),
                  two=dict(rows=rows2, **info2, runs=[_plain(r) for r in runs2], evaluations=len(two.cache)))
    write_report(out, report)
    if skip_four: return
    if not four:
        mean_hv = {s: np.mean([r['hv'] for r in runs2 if r['strategy'] == s]) for s in strategies}
        four = sorted(mean_hv, key=mean_hv.get, reverse=True)[:2]
    lat = SharedEvaluator(Evaluator(knowledge, data, EvalConfig(n_calib=n_calib, raw=False, latency_repeats=10), device),
                          runs_dir/'four')
    runs4, rows4, info4 = part(knowledge, lat, runs_dir/'four', four, seeds, ('error', 'params', 'flops', 'latency'),
                               budget, pop_size, parents, param_budgets,
                               f'error, parameters, FLOPs, latency, {len(seeds)} seeds (mean, range)',
                               runs_dir.with_name(runs_dir.name + '-four.png'))
    report['four'] = dict(strategies=four, rows=rows4, **info4, runs=[_plain(r) for r in runs4], evaluations=len(lat.cache))
    write_report(out, report)


def _plain(run: dict) -> dict:
    "A run without its archive records (they stay in its run folder)."
    return {k: v for k, v in run.items() if k != 'records'}


def parse_args(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    split = lambda v: [x.strip() for x in v.split(',') if x.strip()]
    ap.add_argument('--kb', type=str, default='runs/kb-strategies', help='knowledge base (written to: use a copy)')
    ap.add_argument('--models', type=str, default='*', help='zoo models (a pattern) for a new knowledge base')
    ap.add_argument('--strategies', type=split, default=split('nsga2,random,growth,surrogate,dna'), help='strategies of part 1')
    ap.add_argument('--four', type=split, default=None, help='strategies of part 2 (default: the two best of part 1)')
    ap.add_argument('--skip-four', action='store_true', help='run part 1 only')
    ap.add_argument('--seeds', type=lambda v: [int(x) for x in v.split(',')], default=[0, 1, 2], help='seeds, comma-separated')
    ap.add_argument('--budget', type=int, default=40, help='distinct candidates (true evaluations) per run')
    ap.add_argument('--pop-size', type=int, default=10, help='candidates per batch')
    ap.add_argument('--n-calib', type=int, default=256, help='calibration images')
    ap.add_argument('--n-val', type=int, default=1000, help='validation images (the score; half of the test set no parent saw)')
    ap.add_argument('--param-budgets', type=lambda v: [float(x) for x in v.split(',')], default=[300_000, 500_000],
                    help='parameter budgets to report the best network under, comma-separated')
    ap.add_argument('--device', type=str, default='cpu', help='device')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    ap.add_argument('--out', type=str, default='runs/strategies.json', help='JSON results; runs and plots go beside it')
    return vars(ap.parse_args(argv))


if __name__ == '__main__':
    main(**parse_args())
