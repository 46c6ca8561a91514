#!/usr/bin/env python
"""Fidelity of the evaluator's cheap scores: do raw, stitched and refined validation accuracy rank candidates the way
their accuracy after fine-tuning every weight (the same fixed budget for all) does? Prints Kendall's tau per score
(over all candidates, and over the mixtures alone), writes a JSON file and a scatter plot.

Protocol per candidate: `evaluate` without refinement gives the raw score and the stitched score with and without
the closed-form classifier refit (`acc_stitched_nohead`, `acc_stitched`). Then the stitched network is refined
(adapters, BatchNorm affine and classifier; Adam at a constant learning rate) for the largest of `--refine-steps`,
and scored on the way at each of them: refining for 20 steps and stopping there gives the same network as step 20
of a longer run, so one run yields every refined score (`acc_refined_<steps>`) and what it cost. Last, the
candidate is assembled again, stitched without the classifier refit, and ALL its weights are trained for `--steps`
steps (SGD + Nesterov, linear warm-up, cosine decay, gradient clipping), then scored on the same validation split:
the ground truth. The number of parameters is reported as a trivial baseline score.

CPU (a 2-core machine: about an hour, most of it fine-tuning; 20 minutes to re-score with the truth kept):
    python benchmarks/fidelity.py
GPU:  python benchmarks/fidelity.py --device cuda --n-cands 40 --steps 1000 --n-val 5000

Results are written after every candidate; running the same command again resumes where it stopped. The
fine-tuned accuracies (the slow part) are also kept in OUT.truth.json, by candidate and fine-tuning settings, so
changing only the cheap scores' settings (or the evaluator's code) and running again re-scores every candidate
without fine-tuning any of them again.
"""
from __future__ import annotations
import dataclasses, json, time
from pathlib import Path

import torch

from modulenas.core import as_device, set_seed
from modulenas.data import get_splits
from modulenas.assemble import assemble, refine
from modulenas.evaluate import (EvalConfig, Evaluator, amp_dtype, finetune, kendall_tau, prepare_net,
                                sample_candidates, stitch, top1_accuracy, format_table)

from _common import base_parser, open_kb

BASE_SCORES = ('acc_raw', 'acc_stitched_nohead', 'acc_stitched')
TRUTH_ARGS = ('models', 'steps', 'batch', 'lr', 'optimizer', 'warmup', 'clip_grad', 'n_calib', 'n_val', 'device', 'seed')
TRUTH_FIELDS = ('acc_finetuned', 'loss_first', 'loss_last', 'finetune_s')


def score_names(refine_steps) -> tuple:
    "The cheap scores a run reports: raw, stitched without and with the classifier refit, one per refinement budget."
    return (*BASE_SCORES, *(f'acc_refined_{k}' for k in refine_steps))


def stitched_net(cand, ev: Evaluator, fit_head: bool):
    "`cand` assembled and stitched as the evaluator does it, with or without the closed-form classifier refit."
    net = prepare_net(assemble(cand, ev.kb, device=ev.device), ev.device, ev.config.channels_last)
    _, head = stitch(net, ev.kb, ev.data.calib, ev.teacher_cache, dataclasses.replace(ev.config, fit_head=fit_head),
                     ev.device)
    return net, head


def refined_scores(net, ev: Evaluator, refine_steps, seed: int) -> dict:
    "Validation accuracy of `net` refined for each of `refine_steps` (one run) and the refinement seconds spent by then."
    stops, out, clock = set(refine_steps), {}, [0.0, time.perf_counter()]
    cfg = ev.config
    def at_step(step, loss):
        if step not in stops: return
        clock[0] += time.perf_counter() - clock[1]
        acc = top1_accuracy(net, ev.data.val, net.mean, net.std, cfg.batch_size, amp_dtype(ev.device, cfg.amp),
                            cfg.channels_last)
        out[f'acc_refined_{step}'], out[f'refine_s_{step}'] = acc, clock[0]
        clock[1] = time.perf_counter()
    refine(net, ev.data.train.to(ev.device), steps=max(stops), lr=cfg.refine_lr, batch_size=cfg.refine_batch,
           seed=seed, device=ev.device, amp=amp_dtype(ev.device, cfg.amp) or False, channels_last=cfg.channels_last,
           callback=at_step, bn_stats=cfg.refine_bn)
    return out


def finetuned_accuracy(net, ev: Evaluator, steps: int, lr: float, batch: int, optimizer: str, seed: int,
                       warmup: float, clip_grad: float) -> tuple:
    "Validation accuracy of the stitched `net` after training all its weights (in place); (accuracy, loss history)."
    hist = finetune(net, ev.data.train, steps=steps, lr=lr, batch_size=batch, seed=seed, device=ev.device,
                    optimizer=optimizer, warmup=warmup, clip_grad=clip_grad or None)
    acc = top1_accuracy(net, ev.data.val, net.mean, net.std, ev.config.batch_size)
    return acc, hist


def taus_of(rows: list[dict], scores) -> dict:
    "Kendall's tau of each cheap score (and of the parameter count) against the fine-tuned accuracy."
    truth = [r['acc_finetuned'] for r in rows]
    return {s: kendall_tau([r.get(s) for r in rows], truth) for s in (*scores, 'params')}


def plot(rows: list[dict], taus: dict, path: str, scores):
    "Scatter of each cheap score against the fine-tuned accuracy, one panel per score."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    ncols = min(4, len(scores)); nrows = -(-len(scores) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.2 * nrows), sharey=True, squeeze=False)
    for ax in axes.flat[len(scores):]: ax.axis('off')
    for ax, s in zip(axes.flat, scores):
        pts = [(r[s], r['acc_finetuned'], r['name']) for r in rows if r.get(s) is not None and r['acc_finetuned']]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=18)
        for x, y, n in pts:
            if not n.startswith('mix'): ax.annotate(n, (x, y), fontsize=7)
        ax.set_title(f"{s}: tau = {taus[s]:.3f}"); ax.set_xlabel(s)
    for row in axes: row[0].set_ylabel('accuracy after fine-tuning')
    fig.tight_layout(); Path(path).parent.mkdir(parents=True, exist_ok=True); fig.savefig(path, dpi=120)


class TruthCache:
    "Fine-tuned accuracies by candidate key, for one set of fine-tuning settings, in a JSON file beside the results."
    def __init__(self, path: Path, settings: dict):
        self.path, self.settings = path, settings
        old = json.loads(path.read_text()) if path.exists() else {}
        self.rows = old.get('rows', {}) if old.get('settings') == settings else {}

    def get(self, key: str) -> dict | None: return self.rows.get(key)

    def put(self, key: str, row: dict):
        "Remember the ground-truth fields of `row` and write the file."
        self.rows[key] = {f: row.get(f) for f in TRUTH_FIELDS}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(dict(settings=self.settings, rows=self.rows), indent=1))


def score_seconds(rows: list[dict], refine_steps) -> dict:
    "Median seconds per candidate to obtain each score: the evaluation, plus the refinement up to that step."
    import statistics
    ok = [r for r in rows if r.get('error') is None]
    if not ok: return {}
    base = statistics.median(r['eval_s'] for r in ok)
    out = {s: base for s in BASE_SCORES}
    out |= {f'acc_refined_{k}': statistics.median(r['eval_s'] + r.get(f'refine_s_{k}', 0) for r in ok) for k in refine_steps}
    return out


def main(kb='runs/kb', models='resnet*', n_cands=20, steps=150, batch=128, lr=0.02, optimizer='sgd', warmup=0.1,
         clip_grad=2.0, refine_steps=(10, 20, 30, 50), refine_lr=1e-3, refine_bn='batch', n_calib=1000, n_val=2000,
         device='cpu', seed=0, threads=None, out='runs/fidelity.json', png='runs/fidelity.png'):
    "Cheap scores and fine-tuned accuracy of `n_cands` candidates, and Kendall's tau between them."
    if threads: torch.set_num_threads(threads)
    dev = as_device(device)
    refine_steps = tuple(sorted(set(int(k) for k in refine_steps)))
    if not refine_steps or min(refine_steps) < 1: raise SystemExit('error: --refine-steps needs positive step counts')
    scores = score_names(refine_steps)
    args = dict(kb=kb, models=models, n_cands=n_cands, steps=steps, batch=batch, lr=lr, optimizer=optimizer,
                warmup=warmup, clip_grad=clip_grad, refine_steps=list(refine_steps),
                refine_lr=refine_lr, refine_bn=refine_bn, n_calib=n_calib, n_val=n_val,
                device=device, seed=seed)
    set_seed(seed)
    knowledge = open_kb(kb, models)
    data = get_splits('cifar10', n_calib=n_calib, n_val=n_val, seed=seed)
    cands = sample_candidates(knowledge, n_cands, seed=seed)
    ev = Evaluator(knowledge, data, EvalConfig(n_calib=n_calib, seed=seed, latency_repeats=0, refine_lr=refine_lr,
                                               refine_bn=refine_bn), dev)
    prev = json.loads(Path(out).read_text()) if Path(out).exists() else {}
    done = {r['key']: r for r in prev.get('rows', [])} if prev.get('args') == args else {}
    truth = TruthCache(Path(out).with_suffix('.truth.json'), {k: args[k] for k in TRUTH_ARGS})
    if all(prev.get('args', {}).get(k) == v for k, v in truth.settings.items()):   # a results file of the same truth
        for r in prev.get('rows', []):
            if r.get('acc_finetuned') is not None and truth.get(r['key']) is None: truth.put(r['key'], r)
    rows, t_start = [], time.perf_counter()
    for i, c in enumerate(cands):
        if c.key in done: rows.append(done[c.key]); continue
        res = ev.evaluate(c, raise_errors=False)
        gt, err, refined, nohead = {}, res.error, {}, None
        if res.ok:
            try:
                net, _ = stitched_net(c, ev, fit_head=False)
                nohead = top1_accuracy(net, ev.data.val, net.mean, net.std, ev.config.batch_size)
                refined = refined_scores(stitched_net(c, ev, fit_head=True)[0], ev, refine_steps, seed)
                t1 = time.perf_counter()
                gt = truth.get(c.key)
                if gt is None:
                    acc_ft, hist = finetuned_accuracy(net, ev, steps, lr, batch, optimizer, seed, warmup, clip_grad)
                    gt = dict(acc_finetuned=acc_ft, loss_first=hist[0], loss_last=hist[-1],
                              finetune_s=time.perf_counter() - t1)
                    truth.put(c.key, gt)
            except (FloatingPointError, RuntimeError) as e: err = f"scoring: {type(e).__name__}: {e}"
        row = dict(name=c.name, key=c.key, candidate=c.to_dict(), params=res.params, flops=res.flops,
                   adapters=len(res.adapter_r2), head_refit=res.head_refit, acc_raw=res.acc_raw,
                   acc_stitched_nohead=nohead, acc_stitched=res.acc_stitched, **refined,
                   **{f: (gt or {}).get(f) for f in TRUTH_FIELDS}, eval_s=res.wall_s, error=err)
        rows.append(row)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        partial = dict(args=args, rows=rows, kendall_tau=taus_of(rows, scores), complete=False)
        Path(out).write_text(json.dumps(partial, indent=1))
        shown = '  '.join(f"{s[4:]} {row.get(s) or 0:.3f}" for s in scores)
        print(f"[{i + 1}/{len(cands)}] {c.name:10s} params {res.params or 0:>8,d}  {shown}  "
              f"finetuned {row['acc_finetuned'] or 0:.3f}  ({row['eval_s']:.0f}+{row['finetune_s'] or 0:.0f} s)"
              f"{'  ' + err if err else ''}", flush=True)
    taus, taus_mix = taus_of(rows, scores), taus_of([r for r in rows if r['name'].startswith('mix')], scores)
    cost = score_seconds(rows, refine_steps)
    report = dict(args=args, rows=rows, kendall_tau=taus, kendall_tau_mixtures=taus_mix, score_s_median=cost,
                  complete=True, total_s=time.perf_counter() - t_start)
    Path(out).write_text(json.dumps(report, indent=1))
    plot(rows, taus, png, scores)
    cols = ('name', 'params', *scores, 'acc_finetuned', 'eval_s', 'finetune_s', 'error')
    print(format_table([{c: r.get(c) for c in cols} for r in rows]))
    print()
    print(format_table([{'score': s, 'tau_all': t, 'tau_mixtures': taus_mix[s], 'median_s': cost.get(s)}
                        for s, t in taus.items()]))
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
    ap.add_argument('--refine-steps', type=lambda v: [int(k) for k in v.split(',')], default=[10, 20, 30, 50],
                    help='refinement budgets to score, comma-separated step counts (one run, scored at each)')
    ap.add_argument('--refine-lr', type=float, default=1e-3, help='learning rate of the refinement (Adam)')
    ap.add_argument('--refine-bn', type=str, default='batch', help="BatchNorm during refinement: batch or frozen")
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
