#!/usr/bin/env python
"""Fidelity of the evaluator's cheap scores: do raw, stitched and refined validation accuracy rank candidates the way
their accuracy after fine-tuning every weight (the same fixed budget for all) does? Prints Kendall's tau per score
(over all candidates, and over the mixtures alone), writes a JSON file and a scatter plot.

Protocol per candidate: `evaluate` with refinement gives the three cheap scores; then the candidate is assembled
again, stitched (adapters fitted, BatchNorm re-estimated, no refinement) and ALL its weights are trained for
`--steps` steps (SGD + Nesterov, linear warm-up, cosine decay, gradient clipping), then scored on the same
validation split. The number of parameters is reported as a trivial baseline score.

CPU (a 2-core machine; about an hour when it is otherwise idle):  python benchmarks/fidelity.py
GPU:  python benchmarks/fidelity.py --device cuda --n-cands 40 --steps 1000 --n-val 5000

Results are written after every candidate; running the same command again resumes where it stopped.
"""
from __future__ import annotations
import json, time
from pathlib import Path

import torch

from modulenas.core import as_device, set_seed
from modulenas.data import get_splits
from modulenas.assemble import assemble
from modulenas.evaluate import (EvalConfig, Evaluator, finetune, kendall_tau, prepare_net, sample_candidates, stitch,
                                top1_accuracy, format_table)

from _common import base_parser, open_kb

SCORES = ('acc_raw', 'acc_stitched', 'acc_refined')


def finetuned_accuracy(cand, ev: Evaluator, steps: int, lr: float, batch: int, optimizer: str, seed: int,
                       warmup: float, clip_grad: float) -> tuple:
    "Validation accuracy of `cand` after stitching and then training all its weights; (accuracy, loss history)."
    net = prepare_net(assemble(cand, ev.kb, device=ev.device), ev.device)
    stitch(net, ev.kb, ev.data.calib, ev.teacher_cache, ev.config, ev.device)
    hist = finetune(net, ev.data.train, steps=steps, lr=lr, batch_size=batch, seed=seed, device=ev.device,
                    optimizer=optimizer, warmup=warmup, clip_grad=clip_grad or None)
    acc = top1_accuracy(net, ev.data.val, net.mean, net.std, ev.config.batch_size)
    return acc, hist


def taus_of(rows: list[dict]) -> dict:
    "Kendall's tau of each cheap score (and of the parameter count) against the fine-tuned accuracy."
    truth = [r['acc_finetuned'] for r in rows]
    return {s: kendall_tau([r[s] for r in rows], truth) for s in (*SCORES, 'params')}


def plot(rows: list[dict], taus: dict, path: str):
    "Scatter of each cheap score against the fine-tuned accuracy, one panel per score."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(SCORES), figsize=(4 * len(SCORES), 3.6), sharey=True)
    for ax, s in zip(axes, SCORES):
        pts = [(r[s], r['acc_finetuned'], r['name']) for r in rows if r.get(s) is not None and r['acc_finetuned']]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=18)
        for x, y, n in pts:
            if not n.startswith('mix'): ax.annotate(n, (x, y), fontsize=7)
        ax.set_title(f"{s}: tau = {taus[s]:.3f}"); ax.set_xlabel(s)
    axes[0].set_ylabel('accuracy after fine-tuning')
    fig.tight_layout(); Path(path).parent.mkdir(parents=True, exist_ok=True); fig.savefig(path, dpi=120)


def main(kb='runs/kb', models='resnet*', n_cands=20, steps=150, batch=128, lr=0.02, optimizer='sgd', warmup=0.1,
         clip_grad=2.0, refine_steps=50, n_calib=1000, n_val=2000, device='cpu', seed=0, threads=None,
         out='runs/fidelity.json', png='runs/fidelity.png'):
    "Cheap scores and fine-tuned accuracy of `n_cands` candidates, and Kendall's tau between them."
    if threads: torch.set_num_threads(threads)
    dev = as_device(device)
    args = dict(kb=kb, models=models, n_cands=n_cands, steps=steps, batch=batch, lr=lr, optimizer=optimizer,
                warmup=warmup, clip_grad=clip_grad, refine_steps=refine_steps, n_calib=n_calib, n_val=n_val,
                device=device, seed=seed)
    set_seed(seed)
    knowledge = open_kb(kb, models)
    data = get_splits('cifar10', n_calib=n_calib, n_val=n_val, seed=seed)
    cands = sample_candidates(knowledge, n_cands, seed=seed)
    ev = Evaluator(knowledge, data, EvalConfig(n_calib=n_calib, refine_steps=refine_steps, seed=seed), dev)
    prev = json.loads(Path(out).read_text()) if Path(out).exists() else {}
    done = {r['key']: r for r in prev.get('rows', [])} if prev.get('args') == args else {}
    rows, t_start = [], time.perf_counter()
    for i, c in enumerate(cands):
        if c.key in done: rows.append(done[c.key]); continue
        t0 = time.perf_counter()
        res = ev.evaluate(c, raise_errors=False)
        t1 = time.perf_counter()
        acc_ft, hist, err = None, [], res.error
        if res.ok:
            try: acc_ft, hist = finetuned_accuracy(c, ev, steps, lr, batch, optimizer, seed, warmup, clip_grad)
            except (FloatingPointError, RuntimeError) as e: err = f"fine-tuning: {type(e).__name__}: {e}"
        row = dict(name=c.name, key=c.key, candidate=c.to_dict(), params=res.params, flops=res.flops,
                   acc_raw=res.acc_raw, acc_stitched=res.acc_stitched, acc_refined=res.acc_refined,
                   acc_finetuned=acc_ft, loss_first=hist[0] if hist else None, loss_last=hist[-1] if hist else None,
                   eval_s=t1 - t0, finetune_s=time.perf_counter() - t1, error=err)
        rows.append(row)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        partial = dict(args=args, rows=rows, kendall_tau=taus_of(rows), complete=False)
        Path(out).write_text(json.dumps(partial, indent=1))
        scores = '  '.join(f"{s[4:]} {row[s] or 0:.3f}" for s in SCORES)
        print(f"[{i + 1}/{len(cands)}] {c.name:10s} params {res.params or 0:>8,d}  {scores}  "
              f"finetuned {acc_ft or 0:.3f}  ({row['eval_s']:.0f}+{row['finetune_s']:.0f} s)"
              f"{'  ' + err if err else ''}", flush=True)
    taus, taus_mix = taus_of(rows), taus_of([r for r in rows if r['name'].startswith('mix')])
    report = dict(args=args, rows=rows, kendall_tau=taus, kendall_tau_mixtures=taus_mix, complete=True,
                  total_s=time.perf_counter() - t_start)
    Path(out).write_text(json.dumps(report, indent=1))
    plot(rows, taus, png)
    cols = ('name', 'params', *SCORES, 'acc_finetuned', 'eval_s', 'finetune_s', 'error')
    print(format_table([{c: r[c] for c in cols} for r in rows]))
    print()
    print(format_table([{'score': s, 'tau_all': t, 'tau_mixtures': taus_mix[s]} for s, t in taus.items()]))
    print(f'wrote {out} and {png}')
    return report


def parse_args(argv=None) -> dict:
    "The command-line arguments as keyword arguments of `main`."
    ap = base_parser(__doc__, n_cands=20)
    ap.add_argument('--steps', type=int, default=150, help='fine-tuning steps, the same for every candidate')
    ap.add_argument('--batch', type=int, default=128, help='fine-tuning batch size')
    ap.add_argument('--lr', type=float, default=0.02, help='fine-tuning peak learning rate')
    ap.add_argument('--optimizer', type=str, default='sgd', help='fine-tuning optimizer: sgd or adamw')
    ap.add_argument('--warmup', type=float, default=0.1, help='fine-tuning warm-up, a fraction of the steps')
    ap.add_argument('--clip-grad', type=float, default=2.0, help='fine-tuning gradient-norm clip (0 = none)')
    ap.add_argument('--refine-steps', type=int, default=50, help='refinement steps of the cheap refined score')
    ap.add_argument('--n-calib', type=int, default=1000, help='calibration images')
    ap.add_argument('--n-val', type=int, default=2000, help='validation images')
    ap.add_argument('--device', type=str, default='cpu', help='device')
    ap.add_argument('--seed', type=int, default=0, help='seed of the candidates, the splits and the training')
    ap.add_argument('--threads', type=int, default=None, help="torch CPU threads (1 is faster on a busy machine)")
    ap.add_argument('--out', type=str, default='runs/fidelity.json', help='JSON results (resumed if same settings)')
    ap.add_argument('--png', type=str, default='runs/fidelity.png', help='scatter plot file')
    return vars(ap.parse_args(argv))


if __name__ == '__main__':
    main(**parse_args())
