#!/usr/bin/env python
"""Block-wise ranking (the `dna` strategy, `modulenas.strategies.dna`) measured on the honest protocol, in two parts.

1. Fidelity. On the candidate pool of benchmarks/fidelity.py (its results file holds every candidate with its
   accuracy after fine-tuning every weight), the summed block score of each candidate (`modulenas.strategies.dna.block_score`:
   its modules lined up with the blocks of the teacher they match best, negated so that higher is better) is ranked
   against the fine-tuned accuracy: Kendall's tau with a bootstrap 95% interval, next to the whole-network stitched
   score the search uses and the parameter count, all on the candidates that line up with a teacher (a mixture
   whose stages no single parent has, say a ResNet's full-resolution stage and ShuffleNet's 1/8 stage, does not).
   The block scores are measured for every parent as teacher, on the calibration images of the fidelity run's
   splits, and kept in the knowledge base.

2. Side by side. A `dna` search and an NSGA-II search on the same knowledge base, validation images and seed, at
   equal wall time: dna runs `--budget` candidates, its block scoring (part 1's time) counted in its time; NSGA-II
   then gets as many candidates as fit in that time at the seconds per candidate the dna run measured. Reported:
   the validation hypervolume of each (error and parameters, one set of scales for both, reference 1.1), the best
   validation accuracy under two parameter budgets, candidates and seconds.

CPU (2 cores; about 40 minutes after a fidelity run):
    python benchmarks/dna.py --kb runs/kb --fidelity runs/fidelity.json --threads 2
"""
from __future__ import annotations
import json, time
from pathlib import Path

import torch

from modulenas.core import render_table
from modulenas.data import get_splits
from modulenas.arch import Candidate
from modulenas.kb import KnowledgeBase
from modulenas.evaluate import EvalConfig, Evaluator, zoo_candidates
from modulenas.search import SearchConfig, search, search_space
from modulenas.strategies.dna import DNAStrategy, block_score, score_blocks

from _common import add_search_args, pool_parser, side_by_side_rows, write_report
from fidelity import fidelity_stats, summary_rows

SCORES = ('acc_stitched', 'dna_block', 'params')


def fidelity_part(kb, ev: Evaluator, rows: list[dict], n_images: int, draws: int, seed: int) -> dict:
    "Block tables of every parent, each pool candidate's block score, and the tau statistics."
    space = search_space(kb)
    t0 = time.perf_counter()
    tables = {t: score_blocks(kb, space, t, ev.teacher_cache, n_images=n_images) for t in space.parents}
    table_s = time.perf_counter() - t0
    for r in rows:
        err, teacher = block_score(kb, Candidate.from_dict(r['candidate']), tables)
        r['dna_block'], r['dna_teacher'] = (None if err is None else -err), teacher
    rows = [r for r in rows if r.get('acc_finetuned') is not None]
    n_rows = len(rows)
    rows = [r for r in rows if r['dna_block'] is not None]  # every score on the same candidates: those that line up
    mixtures = [r for r in rows if r.get('group') != 'parent']
    stats, stats_mix = fidelity_stats(rows, SCORES, draws, seed), fidelity_stats(mixtures, SCORES, draws, seed)
    n_blocks = sum(len(t) for t in tables.values())
    return dict(stats=stats, stats_mix=stats_mix, table_s=table_s, n_blocks=n_blocks,
                n_options=sum(len(row) for t in tables.values() for row in t),
                lined_up=len(rows), n_rows=n_rows,
                rows=[dict(name=r['name'], group=r.get('group'), dna_block=r['dna_block'], dna_teacher=r['dna_teacher'],
                           acc_stitched=r.get('acc_stitched'), acc_finetuned=r['acc_finetuned']) for r in rows])


def run_search(kb, data, cfg_eval: EvalConfig, device: str, run_dir: Path, strategy: str, budget: int, pop: int,
               seed: int) -> tuple[dict, float]:
    "A fresh evaluator and a search of `strategy` alone; its archive records and wall seconds."
    ev = Evaluator(kb, data, cfg_eval, device)
    t0 = time.perf_counter()
    res = search(run_dir, kb, ev, SearchConfig(strategies=(strategy,), pop_size=pop, budget=budget, seed=seed), progress=True)
    return {k: res.archive[k] for k in res.evaluated[strategy]}, time.perf_counter() - t0


def main(kb: str, fidelity: str, n_images: int, budget: int, pop_size: int, param_budgets: list, draws: int,
         device: str, threads: int | None, out: str):
    if threads: torch.set_num_threads(threads)
    fid = json.loads(Path(fidelity).read_text())
    a = fid['args']
    knowledge = KnowledgeBase(kb, create=False)
    data = get_splits('cifar10', n_calib=a['n_calib'], n_val=a['n_val'], seed=a['seed'], protocol=a['protocol'])
    cfg_eval = EvalConfig(n_calib=a['n_calib'], seed=a['seed'], latency_repeats=0)
    ev = Evaluator(knowledge, data, cfg_eval, device)
    part1 = fidelity_part(knowledge, ev, fid['rows'], n_images, draws, a['seed'])
    print(f"block scores: {part1['n_blocks']} teacher blocks, {part1['n_options']} (block, option) pairs in "
          f"{part1['table_s']:.0f} s; {part1['lined_up']} of {part1['n_rows']} pool candidates line up with a teacher")
    print(render_table(summary_rows(part1['stats'], part1['stats_mix'], {}), align='lrlll'))

    runs = Path(out).with_suffix('')
    DNAStrategy.n_images = n_images  # the search reads the block scores part 1 measured
    dna_recs, dna_s = run_search(knowledge, data, cfg_eval, device, runs/'dna', 'dna', budget, pop_size, a['seed'])
    dna_total = dna_s + part1['table_s']  # the block scoring the run read from the knowledge base counts in its time
    per_cand = dna_s / max(1, len(dna_recs))
    n_nsga = max(pop_size, round(dna_total / per_cand))
    nsga_recs, nsga_s = run_search(knowledge, data, cfg_eval, device, runs/'nsga2', 'nsga2', n_nsga, pop_size, a['seed'])
    side = side_by_side_rows([({'strategy': name, 'candidates': len(recs), 'seconds': f'{secs:.0f}'}, recs)
                              for name, recs, secs in (('dna', dna_recs, dna_total), ('nsga2', nsga_recs, nsga_s))], param_budgets,
                             {c.key for c in zoo_candidates(knowledge)})
    print(render_table(side))
    report = dict(args=dict(kb=kb, fidelity=fidelity, n_images=n_images, budget=budget, pop_size=pop_size,
                            param_budgets=param_budgets, device=device, threads=threads, fidelity_args=a),
                  fidelity=part1, side_by_side=side, seconds_per_candidate=per_cand)
    write_report(out, report)


def parse_args(argv=None) -> dict:
    ap = pool_parser(__doc__, 'runs/kb', 'knowledge base of the fidelity run')
    ap.add_argument('--n-images', type=int, default=256, help='calibration images the block scores are measured on')
    ap.add_argument('--budget', type=int, default=40, help='candidates of the dna search')
    add_search_args(ap, 'runs/dna.json')
    return vars(ap.parse_args(argv))


if __name__ == '__main__':
    main(**parse_args())
