#!/usr/bin/env python
"""Candidates per second in this process against Ray workers, on the same candidates in the same run, and what the
Ray path costs per candidate.

Three measurements, side by side:
  in-process   one `Evaluator` (torch's default threads) scores the candidates;
  ray          `RayEvaluator` with `--workers` workers of one thread each scores the same candidates (start-up, i.e.
               the Ray instance, the workers and their data, is timed apart);
Each path scores the candidates in two batches: the first ("cold") also fills the evaluator's teacher-feature cache
(every worker fills its own), the second ("warm") shows the steady state of a long search.
  overhead     the same two paths with the weightless stand-in evaluator of `modulenas.testing` (no work at all),
               so the difference per candidate is the Ray round trip: serialising the candidate and the result,
               scheduling, the actor call.
It also checks that both paths give the same scores.

CPU (2 cores):  python benchmarks/ray_eval.py
GPU machine:    python benchmarks/ray_eval.py --device cuda --workers 4 --n-val 5000
"""
from __future__ import annotations
import json, platform, time
from pathlib import Path

import torch

from modulenas.core import render_table
from modulenas.data import get_splits
from modulenas.evaluate import EvalConfig, Evaluator, sample_candidates
from modulenas.spec import search_setup, build_from_setup
from modulenas.distributed import RayEvaluator
from modulenas.arch import from_parent

from _common import base_parser, open_kb


def timed(evaluator, cands) -> tuple[list, float]:
    "Results of `cands` and the seconds they took."
    t0 = time.perf_counter()
    out = evaluator.evaluate_many(cands, progress=False)
    return out, time.perf_counter() - t0


def cold_warm(evaluator, cands) -> tuple[list, float, float]:
    "Results of `cands`, and the seconds of their first half (caches filling) and of their second half."
    half = len(cands) // 2
    a, cold = timed(evaluator, cands[:half])
    b, warm = timed(evaluator, cands[half:])
    return a + b, cold, warm


def main():
    ap = base_parser(__doc__, 24)
    ap.add_argument('--workers', type=int, default=2, help='Ray workers (one thread each)')
    ap.add_argument('--n-calib', type=int, default=500, help='calibration images')
    ap.add_argument('--n-val', type=int, default=1000, help='validation images')
    ap.add_argument('--n-toy', type=int, default=300, help='candidates of the overhead measurement')
    ap.add_argument('--device', type=str, default='cpu')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', type=str, default='runs/ray_eval.json')
    args = ap.parse_args()

    kb = open_kb(args.kb, args.models)
    cands = sample_candidates(kb, args.n_cands, seed=args.seed, include_zoo=False)
    eval_cfg = EvalConfig(n_calib=args.n_calib, raw=False, latency_repeats=0)
    data = dict(name='cifar10', n_calib=args.n_calib, n_val=args.n_val, seed=args.seed)
    setup = search_setup(args.kb, data, eval_cfg, args.device)['setup']

    t0 = time.perf_counter()
    local = Evaluator(kb, get_splits(**data), eval_cfg, args.device)
    local_start = time.perf_counter() - t0
    local_res, local_cold, local_warm = cold_warm(local, cands)
    del local

    ray_ev = RayEvaluator(setup, workers=args.workers)
    try: ray_res, ray_cold, ray_warm = cold_warm(ray_ev, cands)
    finally: ray_ev.close()
    same = [a.score for a in local_res] == [b.score for b in ray_res]

    toy_setup = dict(factory='modulenas.testing:toy_setup', delay=0.0)
    kb_toy, toy_local = build_from_setup(toy_setup)
    toy_cands = [from_parent(kb_toy, p) for p in kb_toy.models()] * (args.n_toy // 2)
    _, toy_local_s = timed(toy_local, toy_cands)
    toy_ray = RayEvaluator(toy_setup, workers=args.workers)
    try: _, toy_ray_s = timed(toy_ray, toy_cands)
    finally: toy_ray.close()

    m, half = len(toy_cands), len(cands) // 2
    n_cold, n_warm = half, len(cands) - half
    rows = [
        {'path': 'in-process', 'layout': f'{torch.get_num_threads()} threads', 'start-up s': f'{local_start:.1f}',
         'cold cand/s': f'{n_cold / local_cold:.3f}', 'warm cand/s': f'{n_warm / local_warm:.3f}'},
        {'path': 'ray', 'layout': f'{args.workers} workers x 1 thread', 'start-up s': f'{ray_ev.start_s:.1f}',
         'cold cand/s': f'{n_cold / ray_cold:.3f}', 'warm cand/s': f'{n_warm / ray_warm:.3f}'},
    ]
    overhead_ms = (toy_ray_s - toy_local_s) / m * 1e3
    report = dict(args=vars(args), candidates=len(cands), same_scores=same,
                  in_process=dict(start_s=local_start, cold_s=local_cold, warm_s=local_warm, cold_per_s=n_cold / local_cold,
                                  warm_per_s=n_warm / local_warm, threads=torch.get_num_threads()),
                  ray=dict(start_s=ray_ev.start_s, cold_s=ray_cold, warm_s=ray_warm, cold_per_s=n_cold / ray_cold,
                           warm_per_s=n_warm / ray_warm, workers=args.workers),
                  speedup_cold=local_cold / ray_cold, speedup_warm=local_warm / ray_warm,
                  overhead_ms_per_candidate=overhead_ms, overhead_candidates=m,
                  toy_start_s=toy_ray.start_s, machine=dict(platform=platform.platform(), cpus=torch.get_num_threads()))
    print(f"{len(cands)} candidates ({args.n_calib} calibration, {args.n_val} validation images, device {args.device})")
    print(render_table(rows, align='llrrr'))
    print(f"ray / in-process: {report['speedup_cold']:.2f}x cold, {report['speedup_warm']:.2f}x warm; same scores: {same}")
    print(f"Ray overhead per candidate: {overhead_ms:.2f} ms ({m} weightless candidates; start-up {toy_ray.start_s:.1f} s apart)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"written {args.out}")


if __name__ == '__main__':
    main()
