#!/usr/bin/env python
"""Predicted stitching adapters (`modulenas.adwp`) measured on the honest protocol, in three parts.

1. Learning. Random mixtures (none of them in the fidelity pool) are evaluated as a search would, which keeps
   their fitted adapters in the knowledge base. The adapter predictor is trained on the module pairs outside a
   fixed held-out share and judged on the held-out pairs against the fitted adapters: R^2 of the standardised
   weights, and the median R^2 with which each adapter reproduces its target's grid averages; next to the raw
   identity-like adapter and the closed form from the stored statistics alone.

2. Fidelity. Every candidate of the pool of benchmarks/fidelity.py (its results file holds each one's accuracy
   after fine-tuning every weight) is scored three ways, side by side, with seconds: fitted adapters (the search's
   stitched score, through the evaluator), predicted adapters from the closed form, and from the trained
   predictor (no calibration pass: the parents' BatchNorm statistics and classifiers as they are). Kendall's tau
   with bootstrap 95% intervals of each predicted score against the stitched score and against the fine-tuned
   accuracy, on every candidate and on the mixtures alone.

3. Side by side. An NSGA-II search that screens every batch with predicted adapters and fits only the best
   `--keep` share, and a plain NSGA-II search, on the same knowledge base, validation images and seed, at equal
   wall time: the screened run asks for `--budget` candidates; the plain run then gets as many as fit in the
   screened run's seconds (the feature statistics included) at the seconds per fully scored candidate the screened
   run measured. Reported: the validation hypervolume of each, and of its new networks alone (error and parameters,
   one set of scales for both, reference 1.1), the best
   validation accuracy under two parameter budgets, candidates asked for and scored in full, seconds.

The knowledge base is written to (feature statistics, kept adapters): pass a copy to keep the original as it was.

CPU (2 cores; about an hour after a fidelity run):
    cp -r runs/kb runs/kb-adwp
    python benchmarks/adwp.py --kb runs/kb-adwp --fidelity runs/fidelity.json --threads 2
"""
from __future__ import annotations
import dataclasses, json, time
from pathlib import Path

import numpy as np
import torch

from modulenas.core import render_table
from modulenas.data import get_splits
from modulenas.arch import Candidate, plan
from modulenas.kb import KnowledgeBase
from modulenas.evaluate import EvalConfig, Evaluator, sample_candidates, zoo_candidates
from modulenas.search import SearchConfig, search
from modulenas.adwp import AdapterPredictor, ScreenedEvaluator, feature_stats, fit_predictor, held_out, kept_pairs

from _common import add_search_args, pool_parser, side_by_side_rows, write_report
from fidelity import fidelity_stats

SCORES = ('acc_closed_form', 'acc_predicted', 'acc_stitched', 'params')


def learn_part(kb, ev: Evaluator, pool_keys: set, n_collect: int, seed: int, steps: int, held: float) -> tuple:
    "Evaluate `n_collect` random mixtures outside the pool (keeping their adapters), then train and judge the predictor."
    cands = [c for c in sample_candidates(kb, n_collect + len(pool_keys), seed=seed, include_zoo=False)
             if c.key not in pool_keys][:n_collect]
    t0 = time.perf_counter()
    results = ev.evaluate_many(cands)
    collect_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    stats = feature_stats(kb, ev.data.calib.images[:256], device=ev.device)
    stats_s = time.perf_counter() - t0
    pairs = kept_pairs(kb, stats)
    predictor, report = fit_predictor(kb, stats, pairs, held_fraction=held, steps=steps, seed=seed)
    return predictor, stats, pairs, dict(report.to_dict(), collected=len(cands), collect_s=collect_s,
                                         ok=sum(r.ok for r in results), kept_adapters=sum(p.n for p in pairs),
                                         pairs=len(pairs), stats_s=stats_s)


def fidelity_part(kb, ev: Evaluator, rows: list[dict], predictor, pairs, held: float, seed: int, draws: int) -> dict:
    "Fitted, closed-form and predicted scores of every pool candidate, side by side, and the tau statistics."
    screens = {'acc_closed_form': ScreenedEvaluator(ev, AdapterPredictor(), n_screen=len(ev.data.val), progress=False),
               'acc_predicted': ScreenedEvaluator(ev, predictor, n_screen=len(ev.data.val), progress=False)}
    trained = {(p.src, p.dst) for p in pairs if not held_out(p, held, seed)}
    out, n_adapters, n_unseen = [], 0, 0
    for r in rows:
        if r.get('acc_finetuned') is None: continue
        c = Candidate.from_dict(r['candidate'])
        row = dict(name=r['name'], group=r.get('group'), acc_finetuned=r['acc_finetuned'], params=r.get('params'))
        t0 = time.perf_counter(); res = ev.evaluate(c, raise_errors=False)
        row['acc_stitched'], row['s_stitched'] = (res.score if res.ok else None), time.perf_counter() - t0
        for name, scr in screens.items():
            t0 = time.perf_counter(); acc, n = scr.screen(c)
            row[name], row['s_' + name[4:]] = acc, time.perf_counter() - t0
        ids = list(c.ids)
        net_pairs = [(ids[i - 1], ids[i]) for i, s in enumerate(plan(c, kb)) if s.adapter]
        n_adapters += len(net_pairs); n_unseen += sum(p not in trained for p in net_pairs)
        row['adapters'] = n
        out.append(row)
        print(f"{row['name']}: stitched {row['acc_stitched']:.4f} ({row['s_stitched']:.1f} s), closed form "
              f"{row['acc_closed_form']:.4f} ({row['s_closed_form']:.1f} s), predicted {row['acc_predicted']:.4f} "
              f"({row['s_predicted']:.1f} s), fine-tuned {row['acc_finetuned']:.4f}", flush=True)
    mixtures = [r for r in out if r['group'] != 'parent']
    vs_ft = fidelity_stats(out, SCORES, draws, seed), fidelity_stats(mixtures, SCORES, draws, seed)
    as_target = lambda rs: [dict(r, acc_finetuned=r['acc_stitched']) for r in rs if r['acc_stitched'] is not None]
    vs_fit = (fidelity_stats(as_target(out), SCORES[:2], draws, seed), fidelity_stats(as_target(mixtures), SCORES[:2], draws, seed))
    secs = {k: float(np.median([r['s_' + k] for r in mixtures])) for k in ('stitched', 'closed_form', 'predicted')}
    return dict(rows=out, vs_finetuned=vs_ft, vs_stitched=vs_fit, median_s_mixtures=secs,
                pool_adapter_pairs=n_adapters, pool_pairs_not_trained_on=n_unseen)



def tau_rows(part: dict) -> list[dict]:
    "One row per score: tau against fine-tuned (all, mixtures) and against stitched (all, mixtures)."
    f = lambda v: '-' if v is None or not np.isfinite(v) else f'{v:.3f}'
    ci = lambda st, s: '' if s not in st['tau_ci95'] else f" [{f(st['tau_ci95'][s][0])}, {f(st['tau_ci95'][s][1])}]"
    out = []
    for s in SCORES:
        row = {'score': s, 'median s (mixtures)': f(part['median_s_mixtures'].get(s[4:])) if s != 'params' else '-'}
        for label, (all_, mix) in (('vs fine-tuned', part['vs_finetuned']), ('vs stitched', part['vs_stitched'])):
            has = s in all_['kendall_tau']
            row[f'tau {label} (all)'] = (f(all_['kendall_tau'][s]) + ci(all_, s)) if has else '-'
            row[f'tau {label} (mixtures)'] = (f(mix['kendall_tau'][s]) + ci(mix, s)) if has else '-'
        out.append(row)
    return out


def search_part(kb, data, cfg_eval: EvalConfig, device: str, runs: Path, predictor, keep: float, budget: int,
                pop: int, seed: int, param_budgets: list, stats_s: float) -> tuple[list, dict]:
    "The screened and the plain NSGA-II run at equal wall time (the feature statistics, measured in part 1 and read back here, count in the screened run's time)."
    def run(name, evaluator, n):
        t0 = time.perf_counter()
        res = search(runs/name, kb, evaluator, SearchConfig(strategies=('nsga2',), pop_size=pop, budget=n, seed=seed))
        return {k: res.archive[k] for k in res.evaluated['nsga2']}, time.perf_counter() - t0
    ev = Evaluator(kb, data, cfg_eval, device)
    t0 = time.perf_counter()
    screened = ScreenedEvaluator(ev, predictor, keep=keep, n_screen=len(data.val) // 2)
    setup_s = time.perf_counter() - t0
    s_recs, s_secs = run('screened', screened, budget)
    s_secs += setup_s + stats_s
    full = [r for r in s_recs.values() if r['result'].get('error') is None]
    per_cand = sum(r['result']['wall_s'] for r in full) / max(1, len(full))
    n_plain = max(pop, round(s_secs / per_cand))
    p_recs, p_secs = run('plain', Evaluator(kb, data, cfg_eval, device), n_plain)
    n_full = lambda recs: sum(r['result'].get('error') is None for r in recs.values())
    side = side_by_side_rows([({'search': name, 'asked': len(recs), 'scored in full': n_full(recs), 'seconds': f'{secs:.0f}'}, recs)
                              for name, recs, secs in (('nsga2 screened', s_recs, s_secs), ('nsga2', p_recs, p_secs))],
                             param_budgets, {c.key for c in zoo_candidates(kb)})
    kept = [(r['result']['acc_predicted'], r['result']['score']) for r in full if r['result'].get('acc_predicted') is not None]
    return side, dict(per_candidate_s=per_cand, n_plain=n_plain, screening_setup_s=setup_s, kept_pairs=kept)


def main(kb: str, fidelity: str, n_collect: int, steps: int, held: float, keep: float, budget: int, pop_size: int,
         param_budgets: list, draws: int, device: str, threads: int | None, out: str):
    if threads: torch.set_num_threads(threads)
    fid = json.loads(Path(fidelity).read_text())
    a = fid['args']
    knowledge = KnowledgeBase(kb, create=False)
    data = get_splits('cifar10', n_calib=a['n_calib'], n_val=a['n_val'], seed=a['seed'], protocol=a['protocol'])
    cfg_eval = EvalConfig(n_calib=a['n_calib'], seed=a['seed'], latency_repeats=0, raw=False)
    ev = Evaluator(knowledge, data, cfg_eval, device)
    pool_keys = {r['key'] for r in fid['rows']}
    predictor, stats, pairs, learn = learn_part(knowledge, ev, pool_keys, n_collect, a['seed'] + 1, steps, held)
    print(f"learning: {learn['collected']} mixtures evaluated in {learn['collect_s']:.0f} s kept {learn['kept_adapters']} "
          f"adapters of {learn['pairs']} module pairs; trained on {learn['n_train']}, held out {learn['n_held']} "
          f"({learn['seconds']:.0f} s)")
    cell = lambda d, k: '-' if k not in d else f"{d[k]:.3f}"
    print(render_table([{'adapter': k, 'weights R^2': cell(learn['entry_r2'], k), 'function R^2 (median)': cell(learn['function_r2'], k),
                         'grid R^2 (median)': cell(learn['grid_r2'], k)} for k in learn['grid_r2']]))
    ev_fit = Evaluator(knowledge, data, dataclasses.replace(cfg_eval, keep_adapters=False), device)
    part2 = fidelity_part(knowledge, ev_fit, fid['rows'], predictor, pairs, held, a['seed'] + 1, draws)
    print(f"{part2['pool_pairs_not_trained_on']} of the pool's {part2['pool_adapter_pairs']} cross-network module "
          "pairs were not trained on")
    print(render_table(tau_rows(part2)))
    mix = part2['vs_stitched'][1]['kendall_tau']
    chosen = predictor if mix.get('acc_predicted', -1) > mix.get('acc_closed_form', -1) else AdapterPredictor()
    print(f"the search screens with the {'trained predictor' if chosen is predictor else 'closed form'} "
          "(the better ranking of the stitched score on the mixtures)")
    runs = Path(out).with_suffix('')
    side, extra = search_part(knowledge, data, cfg_eval, device, runs, chosen, keep, budget, pop_size, a['seed'], param_budgets,
                              learn['stats_s'])
    print(render_table(side))
    report = dict(args=dict(kb=kb, fidelity=fidelity, n_collect=n_collect, steps=steps, held=held, keep=keep, budget=budget,
                            pop_size=pop_size, param_budgets=param_budgets, device=device, threads=threads, fidelity_args=a),
                  learning=learn, fidelity=part2, screened_with='predicted' if chosen is predictor else 'closed_form',
                  side_by_side=side, search=extra)
    write_report(out, report)


def parse_args(argv=None) -> dict:
    ap = pool_parser(__doc__, 'runs/kb-adwp', "a copy of the fidelity run's knowledge base (it is written to)")
    ap.add_argument('--n-collect', type=int, default=40, help='random mixtures evaluated to keep adapters to learn from')
    ap.add_argument('--steps', type=int, default=1500, help='training steps of the predictor')
    ap.add_argument('--held', type=float, default=0.2, help='share of module pairs held out from training')
    ap.add_argument('--keep', type=float, default=0.25, help='share of each batch the screened search scores in full')
    ap.add_argument('--budget', type=int, default=80, help='candidates the screened search asks for')
    add_search_args(ap, 'runs/adwp.json')
    return vars(ap.parse_args(argv))


if __name__ == '__main__':
    main(**parse_args())
