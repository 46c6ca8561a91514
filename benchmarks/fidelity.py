#!/usr/bin/env python
"""Fidelity of the evaluator's cheap scores: do raw, stitched and refined validation accuracy rank candidates the way
their accuracy after fine-tuning every weight (the same fixed budget for all) does, and better than the parameter
count and two published training-free proxies (NASWOT, synflow: see modulenas.scores)? Prints Kendall's tau per score with
a bootstrap 95% interval (over all candidates, and over the mixtures alone) and the top-5 recall, writes a JSON file
and a scatter plot.

The pool: every network of the knowledge base, then random valid mixtures of their modules in three groups, each
spread over sizes (drawn several times over, then taken evenly along the parameter count):
  family  (famNN)  modules of two architectures in one network (ShuffleNet and ResNet modules),
  lineage (linNN)  modules of two lineages of one architecture (the two ResNet lineages), no other architecture,
  within  (mixNN)  modules of one lineage only.
  edit    (editNN) near-parent edits, where a search ends up: one parent with one block swapped for another
                   parent's block of the same resolutions, one block dropped, or one block repeated.
A group the knowledge base cannot supply (no second architecture, no second lineage) stays empty, and the run says so.

Treatments: the same candidate scored after different adaptations to the calibration images, so that the default
is chosen by measurement: acc_stitched (the former default, kept here as the reference: BatchNorm downstream of the
first adapter, a classifier refit offered only to candidates with an adapter, `EvalConfig(head_for='adapted')`), acc_head_all (the refit offered to every candidate, no BatchNorm
re-estimation), acc_bn_only (BatchNorm only), acc_both (both, for every candidate, parents included) and
acc_both_down (both, then --downstream-steps of Adam that train the adapters alone so that what enters the head
matches what the head's parent feeds it: `EvalConfig(downstream_steps=...)`) and acc_both_more (both, on
--calib-more calibration images). The treatment with the best tau on the mixtures and edits
is named, each compared with the reference by a paired bootstrap of the difference of taus. The package's default
since is acc_both (`head_for='all'`): it ranks the mixtures and edits exactly as the reference does and treats
parents like everyone else.

Baselines native to inherited weights stand beside params, NASWOT and synflow: the mean R^2 of the fitted adapters,
minus the number of seams (neighbouring modules of different parents) and the mean raw accuracy of the parents the
modules come from. The verdict is given on the mixtures alone (the parents, near the top both ways, would lift it);
tau is also reported on the edits and on mixtures and edits together. A stronger truth, --strong-steps of
fine-tuning, is measured on --n-strong mixtures and edits drawn by the seed, and reported beside the 200-step truth.

Protocol per candidate: `evaluate` without refinement gives the raw score and the stitched score with and without
the closed-form classifier refit (`acc_stitched_nohead`, `acc_stitched`: the search's score). On a copy of the
network the search scores, NASWOT (on `--proxy-batch` calibration images) and synflow are computed. Then that
network is refined (adapters, BatchNorm affine and classifier; Adam at a constant learning rate) for the largest of
`--refine-steps`, and scored on the way at each of them: refining for 20 steps and stopping there gives the same
network as step 20 of a longer run, so one run yields every refined score (`acc_refined_<steps>`) and what it cost.
Last, the candidate is stitched without the classifier refit and ALL its weights are trained for `--steps` steps
(SGD + Nesterov, linear warm-up, cosine decay, gradient clipping), then scored on the same validation split (by
default half of the CIFAR-10 test set, which no parent was trained on): the ground truth.

CPU (2 cores; about 4 hours for the 42 candidates at 200 steps, and about 2.5 more for the 12 at 2,000 steps,
estimated from the per-step times of benchmarks/budgets.py):
    python benchmarks/fidelity.py --threads 2 --out benchmarks/results/fidelity.json --png benchmarks/results/fidelity.png
Without the stronger truth (about 4 hours):   python benchmarks/fidelity.py --strong-steps 0
GPU:  python benchmarks/fidelity.py --device cuda --steps 1000 --strong-steps 5000 --n-val 5000

Results are written after every candidate; running the same command again resumes where it stopped. The
fine-tuned accuracies (the slow part) are also kept in OUT.truth.json, by candidate and fine-tuning settings, so
changing only the cheap scores' settings (or the evaluator's code) and running again re-scores every candidate
without fine-tuning any of them again.
"""
from __future__ import annotations
import argparse, copy, dataclasses, json, math, statistics, time
from pathlib import Path

import numpy as np
import torch

from modulenas.core import amp_dtype, as_device, set_seed
from modulenas.data import accuracy, get_splits, normalize
from modulenas.arch import Candidate, InvalidCandidate, from_parent, validate
from modulenas.assemble import assemble, refine
from modulenas.search import decode, encode, repair_genome, search_space
from modulenas.evaluate import EvalConfig, Evaluator, finetune, format_table, prepare_net, stitch, zoo_candidates

from _common import Formatter, open_kb
from modulenas.scores import naswot, synflow

BASE_SCORES = ('acc_raw', 'acc_stitched_nohead', 'acc_stitched')
SEARCH_SCORE = 'acc_stitched'                 # what the search ranks by
BASELINES = ('params', 'naswot', 'synflow')   # the scores the search's score has to beat
INHERITED = ('adapter_r2_mean', 'neg_seams', 'parent_acc_mean')  # baselines native to inherited weights
# the treatments a candidate may be given before it is scored (EvalConfig changes); 'acc_stitched' is the reference
# (head_for='adapted', the former default), 'both' the package's default since
TREATMENTS = dict(head_all=dict(recalibrate='off', head_for='all'),   # classifier refit offered to all, no BatchNorm
                  bn_only=dict(fit_head=False),                      # BatchNorm downstream of the first seam only
                  both=dict(head_for='all'),                         # both, for every candidate, parents included
                  both_down=dict(head_for='all'),                    # both, the adapters then trained to what the head expects (--downstream-steps)
                  both_more=dict(head_for='all'))                    # both, on --calib-more calibration images
GROUPS = ('parent', 'family', 'lineage', 'within', 'edit')
MIXTURES = ('family', 'lineage', 'within')
PREFIX = dict(family='fam', lineage='lin', within='mix', edit='edit')
TRUTH_ARGS = ('models', 'steps', 'batch', 'lr', 'optimizer', 'warmup', 'clip_grad', 'n_calib', 'calib_more', 'n_val', 'device',
              'seed', 'protocol')
TRUTH_FIELDS = ('acc_finetuned', 'loss_first', 'loss_last', 'finetune_s')
TARGET_TAU = 0.7
TOP_K = 5


def score_names(refine_steps) -> tuple:
    "Every score a run reports: raw, stitched without and with the classifier refit, each treatment, refined, the baselines."
    return (*BASE_SCORES, *(f'acc_{t}' for t in TREATMENTS), *(f'acc_refined_{k}' for k in refine_steps), *BASELINES, *INHERITED)


# ----------------------------------------------------------------------------------------------- the candidate pool

def lineage_of(kb, parent: str) -> str:
    "The lineage of network `parent`: its zoo family (e.g. 'resnet_cifar_b'), else its own name."
    return kb.model_meta(parent).get('family') or parent


def architecture_of(lineage: str) -> str:
    "The architecture a lineage belongs to: its name up to the first underscore ('resnet_cifar_b' -> 'resnet')."
    return lineage.split('_')[0]


def module_records(kb) -> dict:
    "Every module record of `kb`, by id."
    return {r.id: r for p in kb.models() for r in kb.modules_of(p)}


def kb_params(cand: Candidate, recs: dict) -> int:
    "Parameters of `cand`'s modules as the knowledge base records them (adapters not counted)."
    return sum(recs[m].params for m in cand.ids)


def group_of(cand: Candidate, recs: dict, lineages: dict) -> str:
    "'family' (body modules of two architectures), 'lineage' (of two lineages of one architecture) or 'within' (one lineage)."
    lins = {lineages[recs[m].parent] for m in (cand.body or cand.ids)}  # a borrowed stem or head alone is no mixture
    if len({architecture_of(l) for l in lins}) > 1: return 'family'
    return 'lineage' if len(lins) > 1 else 'within'


def _subset(items, rng, at_least: int = 1) -> list:
    "A random subset of `items` with at least `at_least` of them, sorted."
    items = sorted(items)
    k = int(rng.integers(at_least, len(items) + 1))
    return sorted(str(v) for v in rng.choice(items, size=k, replace=False))


def _by_key(parents: dict, key) -> dict:
    "`parents` (name -> lineage) grouped by `key(lineage)`: key -> sorted parent names."
    out = {}
    for p, lin in sorted(parents.items()): out.setdefault(key(lin), []).append(p)
    return out


def group_parents(group: str, lineages: dict, rng) -> list[str] | None:
    "A random set of parents whose mixtures can fall in `group`; None when the knowledge base cannot supply it."
    by_lin = _by_key(lineages, lambda l: l)
    by_arch = _by_key(lineages, architecture_of)
    if group == 'family':
        if len(by_arch) < 2: return None
        return sorted(p for a in _subset(by_arch, rng, 2) for p in _subset(by_arch[a], rng))
    if group == 'lineage':
        arch_lins = {a: sorted({lineages[p] for p in ps}) for a, ps in by_arch.items()}
        rich = [a for a, ls in arch_lins.items() if len(ls) > 1]
        if not rich: return None
        a = str(rng.choice(rich))
        return sorted(p for l in _subset(arch_lins[a], rng, 2) for p in _subset(by_lin[l], rng))
    if group == 'within': return _subset(by_lin[str(rng.choice(sorted(by_lin)))], rng)
    raise ValueError(f"unknown group {group!r}; choose from {GROUPS[1:]}")


def draw_mixture(kb, parents: list[str], rng) -> Candidate | None:
    "A random valid mixture of `parents`' modules, each stage slot kept with a random probability (varied depths)."
    space = search_space(kb, parents)
    genome = rng.integers(0, space.upper + 1)
    slots = genome[2:]
    keep = rng.uniform(0.3, 1.0)
    genome[2:] = np.where(rng.random(len(slots)) < keep, np.maximum(slots, 1), 0)
    fallback = encode(from_parent(kb, parents[-1]), space)
    try:
        cand = decode(repair_genome(genome, space, kb, fallback), space)
        validate(cand, kb)
    except InvalidCandidate: return None
    return cand


def spread(cands: list[Candidate], n: int, size) -> list[Candidate]:
    "`n` of `cands` taken evenly along the order of `size(candidate)`, smallest and largest included."
    order = sorted(cands, key=lambda c: (size(c), c.key))
    if len(order) <= n: return order
    if n == 1: return [order[len(order) // 2]]
    return [order[round(i * (len(order) - 1) / (n - 1))] for i in range(n)]


def draw_group(kb, group: str, n: int, seed: int, taken: set, recs: dict, lineages: dict, oversample: int = 4,
               max_tries: int = 100) -> list[Candidate]:
    "`n` distinct mixtures of `group` not in `taken`, spread over sizes: `oversample` * `n` drawn, `n` kept."
    if n <= 0: return []
    rng = np.random.default_rng([seed, GROUPS.index(group)])
    found, tries = {}, 0
    while len(found) < oversample * n and tries < max_tries * oversample * n:
        tries += 1
        parents = group_parents(group, lineages, rng)
        if parents is None: return []
        c = draw_mixture(kb, parents, rng)
        if c is None or c.key in taken or c.key in found or group_of(c, recs, lineages) != group: continue
        found[c.key] = c
    picked = spread(list(found.values()), n, lambda c: kb_params(c, recs))
    return [dataclasses.replace(c, name=f'{PREFIX[group]}{i + 1:02d}') for i, c in enumerate(picked)]


def near_parent_edit(kb, parent: str, op: str, rng, recs: dict) -> Candidate | None:
    """`parent` with one edit of its body: 'swap' one block for a block of another parent with the same input and
    output resolution, 'drop' one block, or 'repeat' one block whose input and output shapes agree. None if invalid."""
    full = from_parent(kb, parent)
    body = list(full.body)
    i = int(rng.integers(len(body)))
    r = recs[body[i]]
    if op == 'drop':
        if len(body) < 2: return None
        del body[i]
    elif op == 'repeat':
        same = [j for j, m in enumerate(body) if tuple(recs[m].in_shape) == tuple(recs[m].out_shape)]
        if not same: return None
        j = int(rng.choice(same)); body.insert(j, body[j]); i = j
    elif op == 'swap':
        others = sorted(m for m, o in recs.items() if o.kind == 'body' and o.parent != parent
                        and (o.in_reduction, o.out_reduction) == (r.in_reduction, r.out_reduction))
        if not others: return None
        body[i] = str(rng.choice(others))
    else: raise ValueError(f"unknown edit {op!r}")
    c = Candidate(full.stem, tuple(body), full.head)
    try: validate(c, kb)
    except InvalidCandidate: return None
    return c


def draw_edits(kb, n: int, seed: int, taken: set, recs: dict, max_tries: int = 100) -> list[Candidate]:
    "`n` distinct near-parent edits not in `taken`, the three kinds of edit and the parents taken in turn."
    rng, found, parents, ops = np.random.default_rng([seed, GROUPS.index('edit')]), {}, sorted(kb.models()), ('swap', 'drop', 'repeat')
    for t in range(max_tries * max(n, 1)):
        if len(found) >= n: break
        op, parent = ops[t % 3], parents[(t // 3) % len(parents)]
        c = near_parent_edit(kb, parent, op, rng, recs)
        if c is None or c.key in taken or c.key in found: continue
        found[c.key] = dataclasses.replace(c, name=f"edit{len(found) + 1:02d}")
    return list(found.values())


def build_pool(kb, n_family: int = 12, n_lineage: int = 6, n_within: int = 5, seed: int = 0,
               oversample: int = 4, n_edits: int = 0) -> tuple[list[Candidate], dict, list[str]]:
    "The candidates (every parent, then the mixtures of each group), their group by key, and notes on empty groups."
    recs, lineages = module_records(kb), {p: lineage_of(kb, p) for p in kb.models()}
    cands = zoo_candidates(kb)
    groups, notes = {c.key: 'parent' for c in cands}, []
    archs = sorted({architecture_of(l) for l in lineages.values()})
    why = dict(family=f"the knowledge base holds one architecture ({', '.join(archs)}), no ShuffleNet/ResNet mixtures",
               lineage='no architecture of the knowledge base comes in two lineages',
               within='no mixture of a single lineage could be drawn')
    for group, n in (('family', n_family), ('lineage', n_lineage), ('within', n_within)):
        drawn = draw_group(kb, group, n, seed, set(groups), recs, lineages, oversample)
        if n > 0 and not drawn: notes.append(f"no {group} mixtures: {why[group]}")
        elif len(drawn) < n: notes.append(f"only {len(drawn)} of {n} {group} mixtures could be drawn")
        cands += drawn
        groups |= {c.key: group for c in drawn}
    edits = draw_edits(kb, n_edits, seed, set(groups), recs)
    if len(edits) < n_edits: notes.append(f"only {len(edits)} of {n_edits} near-parent edits could be made")
    cands += edits
    groups |= {c.key: 'edit' for c in edits}
    return cands, groups, notes


# ------------------------------------------------------------------------------------------------------ the scores

def stitched_net(cand, ev: Evaluator, fit_head: bool):
    "`cand` assembled and stitched as the evaluator does it, with or without the closed-form classifier refit."
    net = prepare_net(assemble(cand, ev.kb, device=ev.device), ev.device, ev.config.channels_last)
    calib = ev.data.calib if len(ev.data.calib) == ev.config.n_calib else ev.data.calib.subset(torch.arange(ev.config.n_calib))
    _, head = stitch(net, ev.kb, calib, ev.teacher_cache, dataclasses.replace(ev.config, fit_head=fit_head),
                     ev.device)
    return net, head


def proxy_scores(net, ev: Evaluator, n_images: int) -> dict:
    "NASWOT (on the first `n_images` calibration images) and synflow of a copy of `net`, with the seconds each took."
    work, out = copy.deepcopy(net), {}
    x = normalize(ev.data.calib.images[:n_images], net.mean, net.std)
    t0 = time.perf_counter(); out['naswot'] = naswot(work, x)
    t1 = time.perf_counter(); out['synflow'] = synflow(work, tuple(x.shape[1:]))
    out['naswot_s'], out['synflow_s'] = t1 - t0, time.perf_counter() - t1
    return out


def refined_scores(net, ev: Evaluator, refine_steps, seed: int) -> dict:
    "Validation accuracy of `net` refined for each of `refine_steps` (one run) and the refinement seconds spent by then."
    stops, out, clock = set(refine_steps), {}, [0.0, time.perf_counter()]
    cfg = ev.config
    def at_step(step, loss):
        if step not in stops: return
        clock[0] += time.perf_counter() - clock[1]
        acc = accuracy(net, ev.data.val, net.mean, net.std, cfg.batch_size, dtype=amp_dtype(ev.device, cfg.amp),
                       channels_last=cfg.channels_last)
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
    acc = accuracy(net, ev.data.val, net.mean, net.std, ev.config.batch_size)
    return acc, hist


def seams(c: Candidate) -> int:
    "Places where neighbouring modules of `c` come from different parents."
    src = [m.split(':')[0] for m in c.ids]
    return sum(a != b for a, b in zip(src, src[1:]))


def treated_scores(c: Candidate, treated: dict) -> dict:
    "The score of `c` under each treatment (an evaluator per treatment), None where it failed."
    out = {}
    for name, tev in treated.items():
        r = tev.evaluate(c, raise_errors=False)
        out[f'acc_{name}'], out[f'{name}_s'] = (r.acc_stitched if r.ok else None), r.wall_s
    return out


def score_candidate(c: Candidate, group: str, ev: Evaluator, truth: TruthCache, refine_steps, proxy_batch: int,
                    ft: dict, seed: int, treated: dict | None = None, strong: TruthCache | None = None,
                    strong_ft: dict | None = None) -> dict:
    """One result row: the cheap scores (under each treatment of `treated` too), the proxies and the fine-tuned
    accuracy (from `truth` when known) of `c`; with `strong`, also its accuracy after the longer fine-tuning."""
    res = ev.evaluate(c, raise_errors=False)
    gt, err, refined, proxies, nohead, strong_row = {}, res.error, {}, {}, None, {}
    treatments = treated_scores(c, treated or {}) if res.ok else {}
    if res.ok:
        try:
            net, _ = stitched_net(c, ev, fit_head=False)
            nohead = accuracy(net, ev.data.val, net.mean, net.std, ev.config.batch_size)
            scored = stitched_net(c, ev, fit_head=True)[0]
            proxies = proxy_scores(scored, ev, proxy_batch)
            refined = refined_scores(scored, ev, refine_steps, seed)
            t1 = time.perf_counter()
            gt = truth.get(c.key)
            if gt is None:
                acc_ft, hist = finetuned_accuracy(net, ev, seed=seed, **ft)
                gt = dict(acc_finetuned=acc_ft, loss_first=hist[0], loss_last=hist[-1],
                          finetune_s=time.perf_counter() - t1)
                truth.put(c.key, gt)
            if strong is not None:
                strong_row = strong.get(c.key)
                if strong_row is None:
                    t2 = time.perf_counter()
                    long_net, _ = stitched_net(c, ev, fit_head=False)
                    acc_long, hist = finetuned_accuracy(long_net, ev, seed=seed, **strong_ft)
                    strong_row = dict(acc_finetuned=acc_long, loss_first=hist[0], loss_last=hist[-1], finetune_s=time.perf_counter() - t2)
                    strong.put(c.key, strong_row)
        except (FloatingPointError, RuntimeError, ValueError) as e: err = f"scoring: {type(e).__name__}: {e}"
    return dict(name=c.name, group=group, key=c.key, candidate=c.to_dict(), params=res.params, flops=res.flops,
                adapters=len(res.adapter_r2), head_refit=res.head_refit, acc_raw=res.acc_raw,
                acc_stitched_nohead=nohead, acc_stitched=res.acc_stitched, **treatments, **refined, **proxies,
                adapter_r2_mean=float(np.mean(res.adapter_r2)) if res.adapter_r2 else 1.0,
                neg_seams=-seams(c), **{f: (gt or {}).get(f) for f in TRUTH_FIELDS},
                acc_finetuned_strong=(strong_row or {}).get('acc_finetuned'), finetune_strong_s=(strong_row or {}).get('finetune_s'),
                eval_s=res.wall_s, error=err)


# -------------------------------------------------------------------------------------------------- the statistics

def _finite(r: dict, k: str) -> bool: return isinstance(r.get(k), (int, float)) and math.isfinite(r[k])


def paired(rows: list[dict], score: str, truth: str = 'acc_finetuned') -> tuple[np.ndarray, np.ndarray, list]:
    "(score, fine-tuned accuracy, names) over the rows where both are finite numbers."
    ok = [r for r in rows if _finite(r, score) and _finite(r, truth)]
    return (np.array([r[score] for r in ok], dtype=float), np.array([r[truth] for r in ok], dtype=float),
            [r['name'] for r in ok])


def tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    "Kendall's tau-b between the last axes of `x` and `y` (batched over leading axes); NaN where one side is constant."
    sx = np.sign(x[..., :, None] - x[..., None, :])
    sy = np.sign(y[..., :, None] - y[..., None, :])
    den = np.sqrt((sx * sx).sum((-2, -1)) * (sy * sy).sum((-2, -1)))
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(den > 0, (sx * sy).sum((-2, -1)) / np.where(den > 0, den, 1), np.nan)


def tau_interval(x: np.ndarray, y: np.ndarray, draws: int = 2000, seed: int = 0, level: float = 0.95) -> list:
    "Bootstrap percentile interval of Kendall's tau-b: candidates resampled with replacement `draws` times."
    if len(x) < 2: return [float('nan'), float('nan')]
    idx = np.random.default_rng(seed).integers(0, len(x), size=(draws, len(x)))
    taus = tau_b(x[idx], y[idx])
    taus = taus[np.isfinite(taus)]
    if not len(taus): return [float('nan'), float('nan')]
    lo, hi = np.percentile(taus, [50 * (1 - level), 50 * (1 + level)])
    return [float(lo), float(hi)]


def top_k_recall(x: np.ndarray, y: np.ndarray, names: list, k: int = TOP_K) -> float:
    "Share of the `k` best by `y` (fine-tuned accuracy) that are among the `k` best by `x` (ties broken by name)."
    k = min(k, len(x))
    if k == 0: return float('nan')
    best = lambda v: {names[i] for i in sorted(range(len(v)), key=lambda i: (-v[i], names[i]))[:k]}
    return len(best(x) & best(y)) / k


def fidelity_stats(rows: list[dict], scores, draws: int = 2000, seed: int = 0, truth: str = 'acc_finetuned') -> dict:
    "Per score: Kendall's tau against the fine-tuned accuracy, its bootstrap 95% interval, top-5 recall, pairs used."
    out = dict(kendall_tau={}, tau_ci95={}, top5_recall={}, n_pairs={})
    for s in scores:
        x, y, names = paired(rows, s, truth)
        out['kendall_tau'][s] = float(tau_b(x, y)) if len(x) >= 2 else float('nan')
        out['tau_ci95'][s] = tau_interval(x, y, draws, seed)
        out['top5_recall'][s] = top_k_recall(x, y, names)
        out['n_pairs'][s] = len(x)
    return out


def tau_difference(rows: list[dict], a: str, b: str, draws: int = 2000, seed: int = 0, truth: str = 'acc_finetuned',
                   level: float = 0.95) -> dict:
    """tau(`a`) - tau(`b`) on the rows where both scores and the truth are known, with a paired bootstrap: both taus
    computed on the same resampled candidates, so the interval is that of the difference; p two-sided."""
    ok = [r for r in rows if _finite(r, a) and _finite(r, b) and _finite(r, truth)]
    if len(ok) < 3: return dict(a=a, b=b, n=len(ok), diff=float('nan'), ci=[float('nan')] * 2, p=float('nan'))
    xa, xb, y = (np.array([r[k] for r in ok], dtype=float) for k in (a, b, truth))
    idx = np.random.default_rng(seed).integers(0, len(ok), size=(draws, len(ok)))
    d = tau_b(xa[idx], y[idx]) - tau_b(xb[idx], y[idx])
    d = d[np.isfinite(d)]
    lo, hi = np.percentile(d, [50 * (1 - level), 50 * (1 + level)]) if len(d) else (float('nan'),) * 2
    p = min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean())) if len(d) else float('nan')
    return dict(a=a, b=b, n=len(ok), diff=float(tau_b(xa, y) - tau_b(xb, y)), ci=[float(lo), float(hi)], p=float(p))


def add_parent_accuracy(rows: list[dict], score: str = 'acc_raw') -> None:
    "Each row's `parent_acc_mean`: the mean `score` of the parents its modules come from (one term per module)."
    own = {r['name']: r.get(score) for r in rows if r.get('group') == 'parent'}
    for r in rows:
        c = r['candidate']
        accs = [own.get(m.split(':')[0]) for m in (c['stem'], *c['body'], c['head'])]
        r['parent_acc_mean'] = float(np.mean(accs)) if accs and all(isinstance(v, (int, float)) for v in accs) else None


def subsets(rows: list[dict]) -> dict:
    "The rows of each part of the pool the verdicts are given on."
    return dict(all=rows, mixtures=[r for r in rows if r.get('group') in MIXTURES],
                edits=[r for r in rows if r.get('group') == 'edit'],
                searched=[r for r in rows if r.get('group') in (*MIXTURES, 'edit')])


def choose_treatment(rows: list[dict], draws: int = 2000, seed: int = 0) -> dict:
    """The treatment whose score ranks the mixtures and near-parent edits (where a search goes) best by tau against the
    fine-tuned accuracy; each compared with the reference (`acc_stitched`) by a paired bootstrap."""
    part = subsets(rows)['searched']
    cands = ('acc_stitched', *(f'acc_{t}' for t in TREATMENTS), 'acc_raw')
    taus = {}
    for t in cands:
        x, y, _ = paired(part, t)
        taus[t] = float(tau_b(x, y)) if len(x) > 1 else float('nan')
    best = max((t for t in cands if math.isfinite(taus[t])), key=lambda t: taus[t], default='acc_stitched')
    return dict(taus=taus, best=best, against_default=[tau_difference(part, t, 'acc_stitched', draws, seed)
                                                     for t in cands if t != 'acc_stitched'])


def verdict(stats: dict, score: str = SEARCH_SCORE, baselines=BASELINES, target: float = TARGET_TAU) -> dict:
    "Whether tau(`score`) >= `target` and its interval's lower end is above the tau of every baseline."
    tau, (lo, _) = stats['kendall_tau'][score], stats['tau_ci95'][score]
    base = {b: stats['kendall_tau'][b] for b in baselines if b in stats['kendall_tau']}
    meets = bool(math.isfinite(tau) and tau >= target)
    beats = bool(math.isfinite(lo) and all(math.isfinite(t) and lo > t for t in base.values()))
    return dict(score=score, tau=tau, lower=lo, target=target, baselines=base, meets_target=meets,
                above_baselines=beats, passed=meets and beats)


def verdict_line(v: dict) -> str:
    "The verdict as one line of text."
    base = ', '.join(f'{b} {t:.3f}' for b, t in v['baselines'].items())
    return (f"verdict: tau({v['score']}) = {v['tau']:.3f}, 95% interval from {v['lower']:.3f}; "
            f"tau >= {v['target']}: {'yes' if v['meets_target'] else 'no'}; lower end above every baseline "
            f"({base}): {'yes' if v['above_baselines'] else 'no'} -> {'PASS' if v['passed'] else 'FAIL'}")


def score_seconds(rows: list[dict], refine_steps) -> dict:
    "Median seconds per candidate to obtain each score: the evaluation (plus the refinement so far), a proxy's own."
    ok = [r for r in rows if r.get('error') is None]
    if not ok: return {}
    med = lambda f: statistics.median(f(r) for r in ok)
    base = med(lambda r: r['eval_s'])
    out = {s: base for s in BASE_SCORES}
    out |= {f'acc_refined_{k}': med(lambda r: r['eval_s'] + r.get(f'refine_s_{k}', 0)) for k in refine_steps}
    out |= {f'acc_{t}': med(lambda r: r.get(f'{t}_s') or 0.0) for t in TREATMENTS}
    return out | dict(params=0.0, naswot=med(lambda r: r['naswot_s']), synflow=med(lambda r: r['synflow_s'])) | dict.fromkeys(INHERITED, 0.0)


def group_rows(rows: list[dict], score: str = SEARCH_SCORE) -> list[dict]:
    "Per group of the pool: candidates, tau of `score` within the group, and the mean `score` and fine-tuned accuracy."
    out = []
    for g in GROUPS:
        x, y, _ = paired([r for r in rows if r.get('group') == g], score)
        if len(x): out.append({'group': g, 'candidates': len(x), f'tau ({score})': round(float(tau_b(x, y)), 3) if len(x) > 1 else None,
                               f'mean {score}': round(float(x.mean()), 3), 'mean acc_finetuned': round(float(y.mean()), 3)})
    return out


def summary_rows(stats: dict, stats_mix: dict, cost: dict) -> list[dict]:
    "The summary table: score | seconds per candidate | tau (all) [lo, hi] | tau (mixtures) | top-5 recall."
    f = lambda v: '-' if v is None or not math.isfinite(v) else f'{v:.3f}'
    rows = []
    for s, t in stats['kendall_tau'].items():
        lo, hi = stats['tau_ci95'][s]
        n5 = min(TOP_K, stats['n_pairs'][s])
        rec = stats['top5_recall'][s]
        rows.append({'score': s, 'seconds per candidate': f(cost.get(s)),
                     'tau (all) [lo, hi]': f"{f(t)} [{f(lo)}, {f(hi)}]",
                     'tau (mixtures)': f(stats_mix['kendall_tau'][s]),
                     'top-5 recall': '-' if not math.isfinite(rec) else f"{round(rec * n5)}/{n5}"})
    return rows


LABELS = dict(acc_raw='raw (modules chained as they are)', acc_stitched_nohead='adapters fitted, BatchNorm re-estimated downstream',
              acc_stitched='**stitched** (the reference: also the classifier refit, for networks with an adapter)',
              acc_head_all='classifier refit offered to every network, no BatchNorm re-estimation',
              acc_bn_only='BatchNorm re-estimated downstream of the first adapter, no classifier refit',
              acc_both='both, for every network, parents included (the default since)', acc_both_more='both, on more calibration images',
              acc_both_down='both, the adapters then trained so the head gets what its parent feeds it',
              params='parameter count', naswot='NASWOT (activation patterns)', synflow='synflow',
              adapter_r2_mean='mean R^2 of the fitted adapters', neg_seams='fewer seams (minus the number of joints between parents)',
              parent_acc_mean='mean raw accuracy of the source parents')


def fidelity_tables(report: dict) -> str:
    "The markdown the README shows of a finished `report`: the pool, tau per score and part of the pool, the verdicts."
    a, counts, f = report['args'], report['pool']['counts'], lambda v: '-' if v is None or not math.isfinite(v) else f'{v:.2f}'
    n_mix = sum(counts.get(g, 0) for g in MIXTURES)
    lines = [f"Pool: {sum(counts.values())} candidates: {counts.get('parent', 0)} parents, {counts.get('family', 0)} mixtures of two "
             f"architectures, {counts.get('lineage', 0)} of two lineages, {counts.get('within', 0)} within one lineage and "
             f"{counts.get('edit', 0)} near-parent edits. Truth: every weight fine-tuned for {a['steps']} steps of batch {a['batch']} "
             f"(lr {a['lr']:g}, gradient clip {a['clip_grad']:g}), scored on {a['n_val']:,} validation images of the test half; "
             f"{a['n_calib']:,} calibration images ({a['calib_more']:,} for the last treatment). Intervals: bootstrap over the "
             f"candidates ({report['draws']:,} resamples).", '',
             '| score | seconds per candidate | tau, mixtures [95%] | tau, edits | tau, mixtures and edits [95%] | tau, all | top-5 recall, mixtures |',
             '|---|---:|---:|---:|---:|---:|---:|']
    part = report['by_part']
    for sc, tau in report['kendall_tau'].items():
        if sc.startswith('acc_refined_'): label = f"stitched, then {sc.rsplit('_', 1)[1]} steps of refinement"
        else: label = LABELS.get(sc, sc)
        lo, hi = report['tau_ci95_mixtures'][sc]
        slo, shi = part['searched']['tau_ci95'][sc]
        n5 = min(TOP_K, report['n_pairs_mixtures'][sc]); rec = report['top5_recall_mixtures'][sc]
        lines.append(f"| {label} | {f(report['score_s_median'].get(sc))} | {f(report['kendall_tau_mixtures'][sc])} [{f(lo)}, {f(hi)}] | "
                     f"{f(part['edits']['kendall_tau'][sc])} | {f(part['searched']['kendall_tau'][sc])} [{f(slo)}, {f(shi)}] | {f(tau)} | "
                     f"{'-' if not math.isfinite(rec) else f'{round(rec * n5)}/{n5}'} |")
    v, t = report['verdict'], report['treatment']
    lines += ['', f"Verdict, on the {n_mix} mixtures alone: {verdict_line(v)}.", '',
              f"Treatment: the one that orders the mixtures and edits best is **{LABELS.get(t['best'], t['best']).strip('*')}** "
              f"(tau {t['taus'][t['best']]:.2f}). Against the reference (the former default), paired bootstrap of the difference in tau: " +
              '; '.join(f"{LABELS.get(d['a'], d['a'])} {d['diff']:+.2f} [{d['ci'][0]:+.2f}, {d['ci'][1]:+.2f}], p = {d['p']:.2f}"
                        for d in t['against_default']) + '.']
    st = report.get('strong') or {}
    if st.get('n'):
        lines += ['', f"Against {st['steps']:,} fine-tuning steps ({st['n']} mixtures and edits): tau of the stitched score "
                      f"{st['kendall_tau']['acc_stitched']:.2f}; the {a['steps']}-step truth against it {st['kendall_tau']['acc_finetuned']:.2f}."]
    else: lines += ['', f"No stronger truth was measured in this run (--strong-steps 0)."]
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------------------------------------------- plot and files

def plot(rows: list[dict], taus: dict, path: str, scores):
    "Scatter of each score against the fine-tuned accuracy, one panel per score, points coloured by group."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    colours = dict(parent='crimson', family='tab:blue', lineage='tab:green', within='tab:orange', edit='tab:purple')
    ncols = min(4, len(scores)); nrows = -(-len(scores) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.2 * nrows), sharey=True, squeeze=False)
    for ax in axes.flat[len(scores):]: ax.axis('off')
    for ax, s in zip(axes.flat, scores):
        pts = [(r[s], r['acc_finetuned'], r['name'], r.get('group', 'within')) for r in rows
               if isinstance(r.get(s), (int, float)) and math.isfinite(r[s]) and r['acc_finetuned'] is not None]
        for g in GROUPS:
            mine = [p for p in pts if p[3] == g]
            if mine: ax.scatter([p[0] for p in mine], [p[1] for p in mine], s=18, c=colours[g], label=g)
        for x, y, n, g in pts:
            if g == 'parent': ax.annotate(n, (x, y), fontsize=7)
        if s == 'synflow' and pts and min(p[0] for p in pts) > 0: ax.set_xscale('log')
        ax.set_title(f"{s}: tau = {taus[s]:.3f}"); ax.set_xlabel(s)
    axes.flat[0].legend(fontsize=7)
    for row in axes: row[0].set_ylabel('accuracy after fine-tuning')
    fig.tight_layout(); Path(path).parent.mkdir(parents=True, exist_ok=True); fig.savefig(path, dpi=120)
    plt.close(fig)


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


def _progress_line(i: int, n: int, row: dict, scores) -> str:
    "One line per scored candidate."
    shown = '  '.join(f"{s[4:]} {row.get(s) or 0:.3f}" for s in scores if s.startswith('acc_'))
    return (f"[{i}/{n}] {row['name']:18s} {row['group']:8s} params {row['params'] or 0:>8,d}  {shown}  "
            f"naswot {row.get('naswot') or 0:.1f}  synflow {row.get('synflow') or 0:.3g}  "
            f"finetuned {row['acc_finetuned'] or 0:.3f}  ({row['eval_s']:.0f}+{row['finetune_s'] or 0:.0f} s)"
            f"{'  ' + row['error'] if row['error'] else ''}")


def main(kb='runs/kb', models='*', n_family=12, n_lineage=6, n_within=5, n_edits=12, steps=200, batch=128, lr=0.02,
         optimizer='sgd', warmup=0.1, clip_grad=2.0, refine_steps=(10, 20, 30, 50), refine_lr=1e-3, refine_bn='batch',
         n_calib=1000, calib_more=4000, n_val=2000, proxy_batch=64, strong_steps=2000, n_strong=12, draws=2000, device='cpu',
         seed=0, threads=None, downstream_steps=30, out='runs/fidelity.json', png='runs/fidelity.png', protocol='test-half'):
    "Cheap scores, training-free proxies and fine-tuned accuracy of the candidate pool, and how well they agree."
    if threads: torch.set_num_threads(threads)
    dev = as_device(device)
    refine_steps = tuple(sorted(set(int(k) for k in refine_steps)))
    if not refine_steps or min(refine_steps) < 1: raise SystemExit('error: --refine-steps needs positive step counts')
    if not 2 <= proxy_batch <= n_calib: raise SystemExit('error: --proxy-batch must be between 2 and --n-calib')
    scores = score_names(refine_steps)
    if calib_more < n_calib: raise SystemExit('error: --calib-more must be at least --n-calib')
    if downstream_steps < 1: raise SystemExit('error: --downstream-steps must be positive')
    args = dict(kb=kb, models=models, n_family=n_family, n_lineage=n_lineage, n_within=n_within, n_edits=n_edits,
                calib_more=calib_more, downstream_steps=downstream_steps, strong_steps=strong_steps, n_strong=n_strong, steps=steps,
                batch=batch, lr=lr, optimizer=optimizer, warmup=warmup, clip_grad=clip_grad,
                refine_steps=list(refine_steps), refine_lr=refine_lr, refine_bn=refine_bn, n_calib=n_calib,
                n_val=n_val, proxy_batch=proxy_batch, device=device, seed=seed, protocol=protocol)
    set_seed(seed)
    knowledge = open_kb(kb, [m.strip() for m in models.split(',') if m.strip()])
    cands, groups, notes = build_pool(knowledge, n_family, n_lineage, n_within, seed, n_edits=n_edits)
    counts = {g: sum(v == g for v in groups.values()) for g in GROUPS}
    print(f"pool: {len(cands)} candidates: " + ', '.join(f'{n} {g}' for g, n in counts.items()), flush=True)
    for note in notes: print(f"note: {note}", flush=True)
    data = get_splits('cifar10', n_calib=calib_more, n_val=n_val, seed=seed, protocol=protocol)
    base_cfg = EvalConfig(n_calib=n_calib, seed=seed, latency_repeats=0, refine_lr=refine_lr, refine_bn=refine_bn,
                          head_for='adapted')  # the reference the treatments are compared with (the former default)
    ev = Evaluator(knowledge, data, base_cfg, dev)
    treated = {t: Evaluator(knowledge, data, dataclasses.replace(base_cfg, keep_adapters=False, **kw,
                                                                 **(dict(n_calib=calib_more) if t == 'both_more' else {}),
                                                                 **(dict(downstream_steps=downstream_steps) if t == 'both_down' else {})), dev)
               for t, kw in TREATMENTS.items()}
    others = sorted((c for c in cands if groups[c.key] != 'parent'), key=lambda c: c.key)
    strong_keys = {others[i].key for i in np.random.default_rng([seed, 7]).permutation(len(others))[:n_strong]} if strong_steps else set()
    prev = json.loads(Path(out).read_text()) if Path(out).exists() else {}
    done = {r['key']: r for r in prev.get('rows', [])} if prev.get('args') == args else {}
    truth = TruthCache(Path(out).with_suffix('.truth.json'), {k: args[k] for k in TRUTH_ARGS})
    if all(prev.get('args', {}).get(k) == v for k, v in truth.settings.items()):   # a results file of the same truth
        for r in prev.get('rows', []):
            if r.get('acc_finetuned') is not None and truth.get(r['key']) is None: truth.put(r['key'], r)
    ft = dict(steps=steps, lr=lr, batch=batch, optimizer=optimizer, warmup=warmup, clip_grad=clip_grad)
    strong_ft = dict(ft, steps=strong_steps)
    strong = TruthCache(Path(out).with_suffix(f'.truth-{strong_steps}.json'), {**truth.settings, 'steps': strong_steps})
    pool = dict(counts=counts, notes=notes)
    rows, t_start = [], time.perf_counter()
    for i, c in enumerate(cands):
        if c.key in done: rows.append(done[c.key]); continue
        rows.append(row := score_candidate(c, groups[c.key], ev, truth, refine_steps, proxy_batch, ft, seed, treated,
                                           strong if c.key in strong_keys else None, strong_ft))
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(dict(args=args, pool=pool, rows=rows, complete=False), indent=1))
        print(_progress_line(i + 1, len(cands), row, scores), flush=True)
    add_parent_accuracy(rows)
    parts = subsets(rows)
    stats, stats_mix = fidelity_stats(rows, scores, draws, seed), fidelity_stats(parts['mixtures'], scores, draws, seed)
    by_part = {k: fidelity_stats(v, scores, draws, seed) for k, v in parts.items() if k not in ('all', 'mixtures')}
    strong_rows = [r for r in rows if _finite(r, 'acc_finetuned_strong')]
    strong_stats = fidelity_stats(strong_rows, (*scores, 'acc_finetuned'), draws, seed, truth='acc_finetuned_strong')
    cost = score_seconds(rows, refine_steps)
    v, v_all = verdict(stats_mix, baselines=BASELINES + INHERITED), verdict(stats, baselines=BASELINES + INHERITED)
    groups = group_rows(rows)
    choice = choose_treatment(rows, draws, seed)
    report = dict(args=args, draws=draws, pool=pool, rows=rows, **stats,
                  **{f'{k}_mixtures': d for k, d in stats_mix.items()}, by_part=by_part, score_s_median=cost,
                  verdict=v, verdict_all=v_all, by_group=groups, treatment=choice,
                  strong=dict(steps=strong_steps, n=len(strong_rows), **strong_stats),
                  complete=True, total_s=time.perf_counter() - t_start)
    Path(out).write_text(json.dumps(report, indent=1))
    plot(rows, stats['kendall_tau'], png, scores)
    cols = ('name', 'group', 'params', *(s for s in scores if s != 'params'), 'acc_finetuned', 'eval_s', 'finetune_s',
            'error')
    cell = lambda r, c: f"{r[c]:.3g}" if c == 'synflow' and isinstance(r.get(c), float) else r.get(c)
    print(format_table([{c: cell(r, c) for c in cols} for r in rows]))
    print()
    print(format_table(summary_rows(stats, stats_mix, cost)))
    print(format_table(groups))
    print(f"on the mixtures alone: {verdict_line(v)}")
    print(f"on every candidate, parents included: {verdict_line(v_all)}")
    for part, st in by_part.items():
        t, (lo, hi) = st['kendall_tau'][SEARCH_SCORE], st['tau_ci95'][SEARCH_SCORE]
        print(f"{part}: tau({SEARCH_SCORE}) = {t:.3f} [{lo:.3f}, {hi:.3f}] over {st['n_pairs'][SEARCH_SCORE]} candidates")
    if strong_rows:
        t = strong_stats['kendall_tau']
        print(f"against {strong_steps} fine-tuning steps ({len(strong_rows)} candidates): tau({SEARCH_SCORE}) = "
              f"{t[SEARCH_SCORE]:.3f}; the {steps}-step truth itself = {t['acc_finetuned']:.3f}")
    print(f"treatment ranking the mixtures and edits best: {choice['best']} (tau {choice['taus'][choice['best']]:.3f}); "
          "against the reference (acc_stitched), paired bootstrap: " + '; '.join(
              f"{d['a']} {d['diff']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] p={d['p']:.3f}" for d in choice['against_default']))
    print(); print(fidelity_tables(report))
    print(f'wrote {out} and {png}')
    return report


def parse_args(argv=None) -> dict:
    "The command-line arguments as keyword arguments of `main`."
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    ap.add_argument('--kb', type=str, default='runs/kb', help='knowledge base folder (built from the zoo when empty)')
    ap.add_argument('--models', type=str, default='*',
                    help='zoo models for a new knowledge base: comma-separated patterns, e.g. resnet2*,shufflenet*')
    ap.add_argument('--n-family', type=int, default=12, help='mixtures of two architectures (ShuffleNet + ResNet)')
    ap.add_argument('--n-lineage', type=int, default=6, help='mixtures of the two ResNet lineages')
    ap.add_argument('--n-within', type=int, default=5, help='mixtures within one lineage')
    ap.add_argument('--n-edits', type=int, default=12, help='near-parent edits (one block swapped, dropped or repeated)')
    ap.add_argument('--steps', type=int, default=200, help='fine-tuning steps, the same for every candidate')
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
    ap.add_argument('--calib-more', type=int, default=4000, help="calibration images of the treatment 'both_more'")
    ap.add_argument('--downstream-steps', type=int, default=30, help="steps training the adapters to what the head expects, treatment 'both_down'")
    ap.add_argument('--strong-steps', type=int, default=2000, help='fine-tuning steps of the stronger truth (0: none)')
    ap.add_argument('--n-strong', type=int, default=12, help='candidates (mixtures and edits, drawn by the seed) given the stronger truth')
    ap.add_argument('--n-val', type=int, default=2000, help='validation images')
    ap.add_argument('--proxy-batch', type=int, default=64, help='calibration images NASWOT is computed on')
    ap.add_argument('--draws', type=int, default=2000, help='bootstrap resamples of the tau intervals')
    ap.add_argument('--device', type=str, default='cpu', help='device')
    ap.add_argument('--protocol', type=str, default='test-half',
                    help='validation images: test-half (half of the test set, unseen by every parent) or train-holdout')
    ap.add_argument('--seed', type=int, default=0, help='seed of the pool, the splits, the training and the bootstrap')
    ap.add_argument('--threads', type=int, default=None, help="torch CPU threads (1 is faster on a busy machine)")
    ap.add_argument('--out', type=str, default='runs/fidelity.json', help='JSON results (resumed if same settings)')
    ap.add_argument('--png', type=str, default='runs/fidelity.png', help='scatter plot file')
    return vars(ap.parse_args(argv))


if __name__ == '__main__':
    main(**parse_args())
