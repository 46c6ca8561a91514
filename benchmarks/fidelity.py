#!/usr/bin/env python
"""Fidelity of the evaluator's cheap scores: do raw, stitched and refined validation accuracy rank candidates the way
their accuracy after fine-tuning every weight (same fixed budget for all) does? Prints Kendall's tau per score,
writes a JSON file and a scatter plot.

CPU (about an hour):  python benchmarks/fidelity.py
GPU:                  python benchmarks/fidelity.py --device cuda --n-cands 40 --steps 1000 --n-val 5000

Results are written after every candidate; running the same command again resumes where it stopped.
"""
from __future__ import annotations
import json, time
from pathlib import Path

import torch
import argparse

from modulenas.core import as_device, set_seed
from modulenas.data import get_splits
from modulenas.kb import KnowledgeBase
from modulenas.assemble import assemble
from modulenas.evaluate import (EvalConfig, Evaluator, finetune, kendall_tau, prepare_net, sample_candidates, stitch,
                                top1_accuracy, format_table)

SCORES = ('acc_raw', 'acc_stitched', 'acc_refined')


def open_kb(path: str, pattern: str = 'resnet*') -> KnowledgeBase:
    "The knowledge base at `path`, filled from the zoo models matching `pattern` when it is empty."
    kb = KnowledgeBase(path)
    if not kb.models(): kb.add_zoo(pattern)
    if not kb.models(): raise SystemExit(f"error: no zoo model matching {pattern!r} could be loaded into {path}")
    return kb


def finetuned_accuracy(cand, ev: Evaluator, steps: int, lr: float, batch: int, optimizer: str, seed: int) -> tuple:
    "Validation accuracy of `cand` after stitching and then training all its weights; (accuracy, loss history)."
    net = prepare_net(assemble(cand, ev.kb, device=ev.device), ev.device)
    stitch(net, ev.kb, ev.data.calib, ev.teacher_cache, ev.config, ev.device)
    hist = finetune(net, ev.data.train, steps=steps, lr=lr, batch_size=batch, seed=seed, device=ev.device,
                    optimizer=optimizer)
    acc = top1_accuracy(net, ev.data.val, net.mean, net.std, ev.config.batch_size)
    return acc, hist


def plot(rows: list[dict], taus: dict, path: str):
    "Scatter of each cheap score against the fine-tuned accuracy, one panel per score."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(SCORES), figsize=(4 * len(SCORES), 3.6), sharey=True)
    for ax, s in zip(axes, SCORES):
        pts = [(r[s], r['acc_finetuned'], r['name']) for r in rows if r.get(s) is not None]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=18)
        for x, y, n in pts:
            if not n.startswith('mix'): ax.annotate(n, (x, y), fontsize=7)
        ax.set_title(f"{s}: tau = {taus[s]:.3f}"); ax.set_xlabel(s)
    axes[0].set_ylabel('accuracy after fine-tuning')
    fig.tight_layout(); Path(path).parent.mkdir(parents=True, exist_ok=True); fig.savefig(path, dpi=120)


def main(kb='runs/kb',
         models='resnet*',
         n_cands=20,
         steps=150,
         batch=128,
         lr=0.02,
         optimizer='sgd',
         refine_steps=50,
         n_calib=1000,
         n_val=2000,
         device='cpu',
         seed=0,
         threads=None,
         out='runs/fidelity.json',
         png='runs/fidelity.png'):
    "Cheap scores and fine-tuned accuracy of `n_cands` candidates, and Kendall's tau between them."
    if threads: torch.set_num_threads(threads)
    dev = as_device(device)
    args = dict(kb=kb, models=models, n_cands=n_cands, steps=steps, batch=batch, lr=lr, optimizer=optimizer,
                refine_steps=refine_steps, n_calib=n_calib, n_val=n_val, device=device, seed=seed)
    set_seed(seed)
    knowledge = open_kb(kb, models)
    data = get_splits('cifar10', n_calib=n_calib, n_val=n_val, seed=seed)
    cands = sample_candidates(knowledge, n_cands, seed=seed)
    ev = Evaluator(knowledge, data, EvalConfig(n_calib=n_calib, refine_steps=refine_steps, seed=seed), dev)
    prev = json.loads(Path(out).read_text()) if Path(out).exists() else {}
    same = 'args' in prev and all(prev['args'].get(k, v) == v for k, v in args.items())
    done = {r['key']: r for r in prev.get('rows', [])} if same else {}
    rows, t_start = [], time.perf_counter()
    for i, c in enumerate(cands):
        if c.key in done: rows.append(done[c.key]); continue
        t0 = time.perf_counter()
        res = ev.evaluate(c, raise_errors=False)
        t1 = time.perf_counter()
        acc_ft, hist, err = None, [], res.error
        if res.ok:
            try: acc_ft, hist = finetuned_accuracy(c, ev, steps, lr, batch, optimizer, seed)
            except (FloatingPointError, RuntimeError) as e: err = f"fine-tuning: {type(e).__name__}: {e}"
        row = dict(name=c.name, key=c.key, candidate=c.to_dict(), params=res.params, flops=res.flops,
                   acc_raw=res.acc_raw, acc_stitched=res.acc_stitched, acc_refined=res.acc_refined,
                   acc_finetuned=acc_ft, loss_first=hist[0] if hist else None, loss_last=hist[-1] if hist else None,
                   eval_s=t1 - t0, finetune_s=time.perf_counter() - t1, error=err)
        rows.append(row)
        taus = {s: kendall_tau([r[s] for r in rows], [r['acc_finetuned'] for r in rows]) for s in SCORES}
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(dict(args=args, rows=rows, kendall_tau=taus, complete=False), indent=1))
        print(f"[{i + 1}/{len(cands)}] {c.name:10s} params {res.params or 0:>8,d}  raw {row['acc_raw'] or 0:.3f}  "
              f"stitched {row['acc_stitched'] or 0:.3f}  refined {row['acc_refined'] or 0:.3f}  "
              f"finetuned {acc_ft or 0:.3f}  ({row['eval_s']:.0f}+{row['finetune_s']:.0f} s){'  ' + err if err else ''}",
              flush=True)
    taus = {s: kendall_tau([r[s] for r in rows], [r['acc_finetuned'] for r in rows]) for s in SCORES}
    report = dict(args=args, rows=rows, kendall_tau=taus, complete=True, total_s=time.perf_counter() - t_start)
    Path(out).write_text(json.dumps(report, indent=1))
    plot(rows, taus, png)
    cols = ('name', 'params', 'acc_raw', 'acc_stitched', 'acc_refined', 'acc_finetuned', 'eval_s', 'finetune_s', 'error')
    print(format_table([{c: r[c] for c in cols} for r in rows]))
    print()
    print(format_table([{'score': s, 'kendall_tau': t} for s, t in taus.items()]))
    print(f'wrote {out} and {png}')
    return report


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    "Help text with defaults, the description as written."


def parse_args(argv=None) -> dict:
    "The command-line arguments as keyword arguments of `main`."
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    ap.add_argument('--models', type=str, default='resnet*', help='zoo models (a pattern) put into a new knowledge base')
    ap.add_argument('--kb', type=str, default='runs/kb', help='knowledge base folder (built from the zoo when empty)')
    ap.add_argument('--n-cands', type=int, default=20, help='candidates: the zoo networks, then random mixtures of different sizes')
    ap.add_argument('--steps', type=int, default=150, help='fine-tuning steps (all weights), the same for every candidate')
    ap.add_argument('--batch', type=int, default=128, help='fine-tuning batch size')
    ap.add_argument('--lr', type=float, default=0.02, help='fine-tuning learning rate (cosine schedule)')
    ap.add_argument('--optimizer', type=str, default='sgd', help='fine-tuning optimizer: sgd or adamw')
    ap.add_argument('--refine-steps', type=int, default=50, help='refinement steps of the cheap refined score')
    ap.add_argument('--n-calib', type=int, default=1000, help='calibration images')
    ap.add_argument('--n-val', type=int, default=2000, help='validation images')
    ap.add_argument('--device', type=str, default='cpu', help='device')
    ap.add_argument('--seed', type=int, default=0, help='seed of the candidates, the splits and the training')
    ap.add_argument('--threads', type=int, default=None, help="torch CPU threads (default: torch's choice; 1 is faster on a busy machine)")
    ap.add_argument('--out', type=str, default='runs/fidelity.json', help='JSON results file (resumed when it exists with the same settings)')
    ap.add_argument('--png', type=str, default='runs/fidelity.png', help='scatter plot file')
    return vars(ap.parse_args(argv))


if __name__ == '__main__':
    main(**parse_args())
