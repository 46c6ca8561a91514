#!/usr/bin/env python
"""At every size a user may need, is the network a modulenas search finds better than what a practitioner would do
instead? One command answers it on the honest protocol, with the same fine-tuning compute for every network.

Per budget (parameters, or CPU latency of one image), these networks are fine-tuned with the same number of steps of
the same batch, each with several seeds, and scored once on the test half of CIFAR-10's test set:

- modulenas: the best new network under the budget from NSGA-II searches of error and parameters (one unconstrained,
  one constrained to the budget, in which any stage may be left out, started from the parents and, for each parent too
  large, its largest cut that fits: `SearchConfig(drop_stages=True, seed_cuts=True)`), scored on the validation half (which no parent was trained on), every candidate, parents included, given the same treatment
  (adapters fitted where modules meet, BatchNorm downstream of the first adapter, and a classifier refit offered to
  all: `EvalConfig(head_for='all')`);
- parent: the best parent that fits (by the same validation score), where one does;
- cut: the best parent with blocks or its last stage dropped, a classifier fitted (scored like every candidate);
- pruned: the best parent structurally pruned to the budget by torch-pruning (L1 magnitude of each channel group,
  the same ratio in every layer: a standard recipe that keeps the architecture's shape);
- scratch: a standard CIFAR ResNet narrowed or shortened to the budget, trained from He-initialised weights with a
  practitioner's recipe (pad-4 random crop and flip, label smoothing 0.1, warm-up then cosine, no gradient clipping,
  SGD with Nesterov momentum), its learning rate chosen on the validation half from a few values;
- distilled: the same architecture trained the same way from the best parent's logits (KL at temperature 4);
- scratch x10: the same architecture at ten times the steps (a reference line, one seed).

Every network trains with the same recipe and number of steps; the inherited ones (modulenas, parent, cut, pruned) at
the fine-tuning learning rate with the gradient norm clipped at 2 (measured on a cut ResNet-20 at 150 steps: 0.58
validation accuracy with clipping, 0.52 without), the standard architecture at its chosen rate, unclipped. Intervals come from
a bootstrap over the test images and the seeds. The primary comparison at each budget is named before any training:
the modulenas network against the alternative with the best mean validation accuracy after fine-tuning (never the
test half); the primaries of all budgets are corrected together with Holm's method, and so, as a second family, are
all the modulenas-against-alternative comparisons. A verdict per budget: better, level or worse.

Rerun the same command and it continues where it stopped: the search resumes from its archive and every finished
fine-tuning is kept (OUT/jobs.json, OUT/test_hits.npz). Compute is counted in steps, never in wall time.

It needs torch-pruning (pip install torch-pruning, or the dev extra). On the 2-core CPU the defaults (four budgets,
300 steps) take about six hours, estimated from the per-step and per-candidate times of the README's run:
    python benchmarks/budgets.py
The README's run (four budgets, 150 steps, 17,100 training steps; resumed over four sittings on the CPU):
    python benchmarks/budgets.py --budgets 70k,150k,300k,500k --steps 150 --results benchmarks/results/budgets.json
On a GPU:   python benchmarks/budgets.py --device cuda --steps 2000 --n-val 5000 --pop-size 40 --n-gen 25
"""
from __future__ import annotations
import copy, dataclasses, json, math, platform, time
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from modulenas.arch import Candidate, InvalidCandidate, from_parent, validate
from modulenas.assemble import assemble
from modulenas.core import as_device, atomic_write_bytes, count_flops, count_params, set_seed
from modulenas.data import accuracy, get_splits, top1_correct
from modulenas.evaluate import EvalConfig, Evaluator, finetune, measure_latency, stitch
from modulenas.pipeline import add_hits, read_hits
from modulenas.search import SearchConfig, cut_seeds, parent_cuts, search, search_space
from modulenas.train import distillation_loss
from modulenas.zoo import CifarResNetB, create_model, get_entry

from _common import Formatter, accuracy_interval, bootstrap_p, drawn_accuracies, holm, open_kb

ARMS = ('modulenas', 'parent', 'cut', 'pruned', 'scratch', 'distilled')  # scratch x10 is a reference, never compared
INHERITED = ('modulenas', 'parent', 'cut', 'pruned')  # the arms that start from trained weights
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
DATA_NOTE = ("Data: CIFAR-10 as quality-75 JPEG files (the shared copy), not the original PNG-exact images; the parents "
             "lose {loss:.1f} points on average on them (their sources' clean test accuracy against their accuracy on "
             "this copy's test split, as the zoo cards give them). Validation: a fixed half of the official test set "
             "({n_val:,} images scored); test: the other half ({n_test:,} images), used only here.")


def _save(path: Path, obj) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=1).encode())


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def parse_budget(text: str) -> dict:
    "A budget from the command line: a number of parameters ('70000', '70k') or a latency ('3ms')."
    t = text.strip().lower()
    if t.endswith('ms'): metric, value = 'latency_ms', float(t[:-2])
    else: metric, value = 'params', float(t[:-1]) * 1000 if t.endswith('k') else float(t)
    if not math.isfinite(value) or value <= 0: raise ValueError(f"a budget must be a positive number, got {text!r}")
    return dict(metric=metric, value=value, name=f"{value:g} ms" if metric == 'latency_ms' else f"{value / 1000:g}k params")


# -- what each network costs ------------------------------------------------------------------------------------

def costs(net, device, repeats: int) -> dict:
    "Parameters, FLOPs and median CPU latency (ms, one image) of `net`."
    net = net.to(device).eval()
    return dict(params=count_params(net), flops=count_flops(net, torch.zeros(1, 3, 32, 32, device=device)),
                latency_ms=measure_latency(net, (3, 32, 32), 1, repeats, 3, device) if repeats else None)


def fits(c: dict, budget: dict) -> bool:
    "Whether costs `c` are within `budget` (a latency budget needs a measured latency)."
    v = c.get(budget['metric'])
    return v is not None and v <= budget['value']


# -- the candidates: search, parents, cuts ----------------------------------------------------------------------

def eval_config(args: dict) -> EvalConfig:
    "One treatment for every candidate (parents included), latency measured for the latency budgets."
    return EvalConfig(n_calib=args['n_calib'], head_for='all', raw=True,
                      latency_repeats=args['latency_repeats'], seed=args['seed'])


def run_search(folder: Path, kb, evaluator, args: dict, budget: dict | None = None):
    "The search of error and parameters, constrained to `budget` when one is given (resumed when interrupted)."
    limit = {} if budget is None else {'max_params' if budget['metric'] == 'params' else 'max_latency_ms': budget['value']}
    n_gen = args['n_gen'] if budget is None else args['constrained_n_gen']  # far below the parents, feasibility takes a while
    cfg = SearchConfig(objectives=('error', 'params'), pop_size=args['pop_size'], n_gen=n_gen, seed=args['seed'],
                       strategies=('nsga2',), drop_stages=budget is not None, **limit)  # under a budget any stage may go
    return search(folder, kb, evaluator, cfg, progress=args['progress'])


def module_params(kb, c: Candidate) -> int:
    "Parameters of the modules of `c` (adapters left out): what the cut costs at least."
    return sum(kb.get(m).params for m in c.ids)


def score_cuts(out: Path, kb, evaluator, max_params: float = math.inf) -> dict:
    "Every parent's cuts of at most `max_params` parameters scored like the search's candidates, kept in OUT/cuts.json."
    path, done = out/'cuts.json', _load(out/'cuts.json')
    for parent in kb.models():
        for c in parent_cuts(kb, parent):
            if c.key in done or module_params(kb, c) > max_params: continue
            try: validate(c, kb)
            except InvalidCandidate: continue
            res = evaluator.evaluate(c, raise_errors=False)
            if res.ok: done[c.key] = dict(candidate=c.to_dict(), result=res.to_dict()); _save(path, done)
    return done


def best_candidates(records: list[dict], budget: dict, n: int) -> list[dict]:
    "The archive records of the `n` highest validation scores among `records` within `budget`, best first (one per key)."
    ok = {r['key']: r for r in records if r['result'].get('error') is None and fits(r['result'], budget)}
    return sorted(ok.values(), key=lambda r: (-r['result']['score'], r['result']['params']))[:n]


def best_candidate(records: list[dict], budget: dict) -> dict | None:
    "The archive record of the highest validation score among `records` within `budget`."
    ok = [r for r in records if r['result'].get('error') is None and fits(r['result'], budget)]
    return max(ok, key=lambda r: (r['result']['score'], -r['result']['params'])) if ok else None


# -- the alternatives a practitioner would build -------------------------------------------------------------------

def standard_arch(budget: dict, device, repeats: int) -> dict | None:
    "The largest standard CIFAR ResNet (depth 20 to 56, widths 8 to 16 doubling per stage) within `budget`."
    best = None
    for depth in (20, 26, 32, 44, 56):
        for w in range(8, 17, 2):
            net = CifarResNetB(depth, widths=(w, 2 * w, 4 * w))
            c = dict(costs(net, device, repeats if budget['metric'] == 'latency_ms' else 0), depth=depth, width=w)
            if fits(c, budget) and (best is None or c['params'] > best['params']): best = c
    return best


def build_standard(spec: dict, seed: int):
    "The standard architecture of `spec`, He-initialised from `seed`, expecting CIFAR-normalised inputs."
    torch.manual_seed(seed)
    net = CifarResNetB(spec['depth'], widths=(spec['width'], 2 * spec['width'], 4 * spec['width']))
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)): torch.nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
        if isinstance(m, torch.nn.Linear): torch.nn.init.zeros_(m.bias)
    net.mean, net.std = CIFAR_MEAN, CIFAR_STD
    return net


def zoo_net(name: str):
    "The pretrained zoo network `name` with its input normalisation attached."
    net, entry = create_model(name, pretrained=True), get_entry(name)
    net.mean, net.std = tuple(entry.mean), tuple(entry.std)
    return net


def _classifier(net):
    return [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]


def prune_to(name: str, budget: dict, device, repeats: int, tries: int = 14):
    """The zoo network `name` pruned by torch-pruning (L1 magnitude of channel groups, one ratio for every layer) to
    the largest size within `budget` (bisection on the ratio); (network, ratio), or None when it cannot be pruned."""
    import torch_pruning as tp
    base = zoo_net(name)

    def pruned(ratio):
        net = copy.deepcopy(base)
        pr = tp.pruner.MagnitudePruner(net, torch.zeros(1, 3, 32, 32), importance=tp.importance.MagnitudeImportance(p=1),
                                       pruning_ratio=ratio, ignored_layers=[_classifier(net)])
        pr.step()
        return net
    try:
        lo, hi, best = 0.0, 0.99, None
        for _ in range(tries):
            mid = (lo + hi) / 2
            net = pruned(mid)
            if fits(costs(net, device, repeats if budget['metric'] == 'latency_ms' else 0), budget): best, hi = (net, mid), mid
            else: lo = mid
        return best
    except Exception as e:  # a graph the pruning library cannot follow: that parent is not pruned
        print(f"note: torch-pruning could not prune {name}: {type(e).__name__}: {e}")
        return None


# -- training: one job per network and seed ------------------------------------------------------------------------

def recipe(args: dict, lr: float, steps: int, inherited: bool, teacher=None) -> dict:
    """The training recipe (keyword arguments of `finetune`): pad-4 crops and flips, label smoothing 0.1, SGD with
    Nesterov momentum, warm-up then cosine decay; networks with inherited weights clip the gradient norm at 2 (freshly
    fitted adapters otherwise wreck the trained features in the first steps), networks from scratch do not."""
    loss = distillation_loss(args['kd_weight'], args['kd_temperature'], 0.1) if teacher is not None else partial(
        F.cross_entropy, label_smoothing=0.1)
    return dict(steps=steps, lr=lr, batch_size=args['batch'], clip_grad=args['ft_clip'] if inherited else None, crop=4,
                flip=True, warmup=0.1, loss_fn=loss, teacher=teacher)


class Jobs:
    "Finished trainings (OUT/jobs.json: a row each) and their per-test-image hits (OUT/test_hits.npz), kept as they finish."
    def __init__(self, out: Path):
        self.out, self.rows = out, _load(out/'jobs.json')

    def run(self, job_id: str, make, data, args: dict, lr: float, steps: int, seed: int, info: dict, teacher=None,
            test: bool = True) -> dict:
        "The row of `job_id`, training `make()` (a network) first when it has not finished before (`test`: score the test half)."
        if (old := self.rows.get(job_id)) is not None:
            if (old.get('key'), old.get('network'), old.get('steps')) == (info.get('key'), info.get('network'), steps): return old
            print(f"  {job_id}: trained {old.get('network')} before, the plan now says {info.get('network')}: training again", flush=True)
        dev, t0 = as_device(args['device']), time.perf_counter()
        net = make().to(dev)
        run = dict(mean=net.mean, std=net.std, batch_size=250)
        val_before = accuracy(net, data.val, **run)
        losses = finetune(net, data, seed=seed, device=dev, **recipe(args, lr, steps, info['arm'] in INHERITED, teacher))
        hits = top1_correct(net, data.test, **run).numpy() if test else None
        row = dict(info, id=job_id, lr=lr, steps=steps, seed=seed, batch=args['batch'], val_before=val_before,
                   val_after=accuracy(net, data.val, **run), test_after=None if hits is None else float(hits.mean()),
                   params=count_params(net), final_loss=float(np.mean(losses[-10:])), wall_s=time.perf_counter() - t0)
        if hits is not None: add_hits(self.out, {job_id: hits})
        self.rows[job_id] = row
        _save(self.out/'jobs.json', self.rows)
        print(f"  {job_id}: val {row['val_after']:.4f}" + (f" test {row['test_after']:.4f}" if test else '') + f" ({row['wall_s']:.0f} s)", flush=True)
        return row


def stitched_net(candidate: Candidate, kb, data, args: dict, evaluator):
    "`candidate` assembled and stitched exactly as it was scored (its starting point for fine-tuning)."
    dev = as_device(args['device'])
    set_seed(args['seed'])
    net = assemble(candidate, kb, device=dev)
    stitch(net, kb, evaluator.data.calib, evaluator.teacher_cache, evaluator.config, dev)
    return net


def pick_by_halving(tag: str, pool: list[dict], kb, data, evaluator, jobs, args: dict) -> tuple[dict, dict]:
    """The final pick (`modulenas.export.halving_rounds`): the pool's networks fine-tuned from their stitched start with
    the final recipe (seed 0) for --pick-steps steps, the better half by validation accuracy on to twice the steps, until
    one is left. Returns its record and what the pick did (rounds, steps spent); the test half is never scored."""
    from modulenas.export import halving_rounds
    def score(i, n):
        rec = pool[i]; cand = Candidate.from_dict(rec['candidate'])
        info = dict(arm='pick', budget=tag, network=cand.name or f"new {rec['key'][:6]}", key=rec['key'])
        return jobs.run(f"{tag}-pick-{rec['key'][:10]}-{n}", lambda: stitched_net(cand, kb, data, args, evaluator), data,
                        args, args['ft_lr'], n, 0, info, test=False)['val_after']
    h = halving_rounds(len(pool), score, keep=1, steps=args['pick_steps'])
    by_score = best_candidate(pool, dict(metric='params', value=math.inf))
    about = dict(steps=h['steps'], rounds=[[dict(r, key=pool[r['index']]['key']) for r in rnd] for rnd in h['rounds']],
                 pool=[r['key'] for r in pool], by_score=by_score['key'], picked=pool[h['picked'][0]]['key'])
    return pool[h['picked'][0]], about


def plan_budget(budget: dict, search_recs: list[dict], cut_recs: list[dict], parent_recs: dict, args: dict) -> dict:
    "Which network each arm trains under `budget` (the search's, the parent's, the cut's and the pruned parent's)."
    dev, rep = as_device(args['device']), args['latency_repeats']
    parents = set(parent_recs)
    new = [r for r in search_recs if r['key'] not in parents]
    plan = dict(modulenas=best_candidate(new, budget), parent=best_candidate(list(parent_recs.values()), budget),
                cut=best_candidate(cut_recs, budget))
    if args.get('pick_from'): plan['pool'] = best_candidates(new, budget, args['pick_from'])
    ranked = sorted(parent_recs, key=lambda k: -parent_recs[k]['result']['score'])
    names = [parent_recs[k]['candidate']['name'] for k in ranked]
    plan['best_parent'] = names[0]
    plan['standard'] = standard_arch(budget, dev, rep)
    too_big = [n for n, k in zip(names, ranked) if not fits(parent_recs[k]['result'], budget)]
    for name in too_big:  # the most accurate parent that does not fit and that the pruning library can prune
        if (p := prune_to(name, budget, dev, rep)) is not None:
            plan['pruned'] = dict(parent=name, ratio=p[1], **costs(p[0], dev, rep)); break
    else: plan['pruned'] = None
    return plan


def train_budget(budget: dict, plan: dict, kb, data, evaluator, jobs: Jobs, args: dict) -> list[dict]:
    "Every arm's trainings under `budget` (all seeds; the learning-rate choice for the standard architecture first)."
    tag, steps, seeds, rows = budget['name'].replace(' ', ''), args['steps'], range(args['seeds']), []
    extra = 0  # steps the final pick spent: every alternative gets them too
    if plan.get('pool'):
        plan['modulenas'], plan['pick'] = pick_by_halving(tag, plan['pool'], kb, data, evaluator, jobs, args)
        extra = plan['pick']['steps']
    for arm in ('modulenas', 'parent', 'cut'):
        if (rec := plan.get(arm)) is None: continue
        n_steps = steps if arm == 'modulenas' else steps + extra
        cand = Candidate.from_dict(rec['candidate'])
        info = dict(arm=arm, budget=budget['name'], network=cand.name or f"new {rec['key'][:6]}", key=rec['key'],
                    val_score=rec['result']['score'], flops=rec['result']['flops'], latency_ms=rec['result'].get('latency_ms'))
        for s in seeds:
            rows.append(jobs.run(f"{tag}-{arm}-s{s}", lambda: stitched_net(cand, kb, data, args, evaluator), data, args,
                                 args['ft_lr'], n_steps, s, info))
    if (pr := plan.get('pruned')) is not None:
        net = prune_to(pr['parent'], budget, as_device(args['device']), args['latency_repeats'])[0]
        info = dict(arm='pruned', budget=budget['name'], network=f"{pr['parent']} pruned {pr['ratio']:.2f}",
                    flops=pr['flops'], latency_ms=pr['latency_ms'])
        for s in seeds:
            rows.append(jobs.run(f"{tag}-pruned-s{s}", lambda: copy.deepcopy(net), data, args, args['ft_lr'], steps + extra, s, info))
    if (st := plan.get('standard')) is not None:
        arch = f"ResNet-{st['depth']} width {st['width']}"
        info = dict(arm='scratch', budget=budget['name'], network=arch, flops=st['flops'], latency_ms=st['latency_ms'])
        trials = [jobs.run(f"{tag}-scratch-lr{lr:g}-s0", lambda: build_standard(st, 0), data, args, lr, steps + extra, 0, info)
                  for lr in args['scratch_lrs']]
        lr = max(trials, key=lambda r: r['val_after'])['lr']  # chosen on the validation half
        rows += [r for r in trials if r['lr'] == lr]
        rows += [jobs.run(f"{tag}-scratch-lr{lr:g}-s{s}", lambda: build_standard(st, s), data, args, lr, steps + extra, s, info)
                 for s in seeds if s > 0]
        teacher = zoo_net(plan['best_parent']).to(as_device(args['device']))
        kd = dict(info, arm='distilled', network=f"{arch} from {plan['best_parent']}")
        rows += [jobs.run(f"{tag}-distilled-lr{lr:g}-s{s}", lambda: build_standard(st, s), data, args, lr, steps + extra, s, kd,
                          teacher=teacher) for s in seeds]
        if args['reference_mult']:
            ref = dict(info, arm=f"scratch x{args['reference_mult']}")
            rows.append(jobs.run(f"{tag}-scratch-x{args['reference_mult']}-lr{lr:g}-s0", lambda: build_standard(st, 0), data,
                                 args, lr, steps * args['reference_mult'], 0, ref))
    return rows


# -- the untrained parents: what the fine-tuning buys -------------------------------------------------------------

def parent_reference(out: Path, kb, data, args: dict) -> list[dict]:
    "Each parent's test accuracy as it comes, and with only its BatchNorm statistics re-estimated on training images."
    from modulenas.assemble import recalibrate_bn
    path, done = out/'parents_untrained.json', _load(out/'parents_untrained.json')
    for name in kb.models():
        if name in done: continue
        net, entry = zoo_net(name), get_entry(name)
        run = dict(mean=net.mean, std=net.std, batch_size=250)
        raw = accuracy(net, data.test, **run)
        recalibrate_bn(net, data.train.images[:args['n_bn']])
        done[name] = dict(network=name, params=count_params(net), test_raw=raw, test_bn=accuracy(net, data.test, **run),
                          top1_reported=entry.top1_reported, top1_jpeg=entry.top1_jpeg)
        _save(path, done)
    return list(done.values())


# -- statistics and the verdict -------------------------------------------------------------------------------------

def arm_summary(rows: list[dict], hits: dict, args: dict) -> list[dict]:
    "Per budget and arm: mean test accuracy over seeds with a 95% interval from a bootstrap over images and seeds."
    rng = np.random.default_rng(args['seed'])
    n = len(next(iter(hits.values())))
    images = rng.integers(0, n, (args['draws'], n))
    out = []
    for (budget, arm), rs in _groups(rows).items():
        h = np.stack([hits[r['id']] for r in rs])
        acc = drawn_accuracies(h, images, rng)
        lo, hi = np.quantile(acc, [0.025, 0.975])
        r0 = rs[0]
        out.append(dict(budget=budget, arm=arm, network=r0['network'], params=r0['params'], flops=r0.get('flops'),
                        latency_ms=r0.get('latency_ms'), seeds=len(rs), steps=r0['steps'], lr=r0['lr'],
                        val_score=r0.get('val_score'), val_after=float(np.mean([r['val_after'] for r in rs])),
                        test_after=float(h.mean()), test_seed_sd=float(np.std([r['test_after'] for r in rs], ddof=1)) if len(rs) > 1 else None,
                        low=float(lo), high=float(hi)))
    return out


def _groups(rows: list[dict]) -> dict:
    groups = {}
    for r in rows: groups.setdefault((r['budget'], r['arm']), []).append(r)
    return groups


def primary_alternative(summary: list[dict], budget: str) -> str | None:
    "The alternative of `budget` with the best mean validation accuracy after fine-tuning (chosen before the test half is read)."
    alts = [s for s in summary if s['budget'] == budget and s['arm'] in ARMS[1:]]
    return max(alts, key=lambda s: s['val_after'])['arm'] if alts else None


def comparisons(rows: list[dict], hits: dict, summary: list[dict], args: dict, alpha: float = 0.05) -> list[dict]:
    """The modulenas network minus each alternative at each budget, on the same test images (bootstrap over images,
    and over each side's seeds); Holm-corrected within the primaries and within all of them."""
    groups, rng = _groups(rows), np.random.default_rng(args['seed'] + 1)
    n = len(next(iter(hits.values())))
    images = rng.integers(0, n, (args['draws'], n))
    out = []
    for budget in dict.fromkeys(r['budget'] for r in rows):
        if (budget, 'modulenas') not in groups: continue
        mine = np.stack([hits[r['id']] for r in groups[budget, 'modulenas']])
        primary = primary_alternative(summary, budget)
        for arm in ARMS[1:]:
            if (budget, arm) not in groups: continue
            theirs = np.stack([hits[r['id']] for r in groups[budget, arm]])
            d = drawn_accuracies(mine, images, rng) - drawn_accuracies(theirs, images, rng)
            out.append(dict(budget=budget, a='modulenas', b=arm, primary=arm == primary, diff=float(mine.mean() - theirs.mean()),
                            p=bootstrap_p(d), draws=d))
    for family, members in (('primary', [c for c in out if c['primary']]), ('all', out)):
        adjusted, divisor = holm([c['p'] for c in members])
        for c, p_adj, k in zip(members, adjusted, divisor):
            lo, hi = np.quantile(c['draws'], [alpha / k / 2, 1 - alpha / k / 2])
            c[f'{family}_p_holm'], c[f'{family}_low'], c[f'{family}_high'] = p_adj, float(lo), float(hi)
            c[f'{family}_verdict'] = 'level' if p_adj > alpha else ('better' if c['diff'] > 0 else 'worse')
    for c in out: del c['draws']
    return out


# -- report -----------------------------------------------------------------------------------------------------------

def _pts(v: float) -> str: return f"{100 * v:+.1f}"


def budget_tables(report: dict) -> str:
    "The markdown tables of `report`: per budget its networks, then the verdicts; the data note and untrained parents."
    lines = [report['data_note'], '']
    for b in report['budgets']:
        lines += [f"#### Budget: {b['name']}", '',
                  '| arm | network | params | val (search score) | test after, mean of seeds [95%] | seeds | steps | lr |',
                  '|---|---|---:|---:|---:|---:|---:|---:|']
        for s in sorted((s for s in report['summary'] if s['budget'] == b['name']), key=lambda s: -s['test_after']):
            vs = '-' if s.get('val_score') is None else f"{s['val_score']:.4f}"
            lines.append(f"| {s['arm']} | {s['network']} | {s['params']:,} | {vs} | {s['test_after']:.4f} "
                         f"[{s['low']:.4f}, {s['high']:.4f}] | {s['seeds']} | {s['steps']} | {s['lr']:g} |")
        lines.append('')
        con = report['search']['constrained'].get(b['name'])
        if isinstance(con, dict):  # older reports hold a count alone
            lines.append(f"The search constrained to {b['name']} scored {con['evaluations']} candidates, starting from the parents"
                         + (f" and the cuts {', '.join(con['seeded_with'])}." if con['seeded_with'] else '.'))
        if (pk := report['plans'].get(b['name'], {}).get('pick')) is not None:
            same = 'the same network as' if pk['picked'] == pk['by_score'] else f"not new {pk['by_score'][:6]},"
            lines.append(f"The final pick fine-tuned the {len(pk['pool'])} best new networks by score briefly ({len(pk['rounds'])} rounds, "
                         f"{pk['steps']:,} steps) and kept new {pk['picked'][:6]}: {same} the best by score. Every alternative trained "
                         f"{pk['steps']:,} steps more than modulenas, so that each got the same compute.")
        if not any(s['arm'] == 'modulenas' and s['budget'] == b['name'] for s in report['summary']):
            lines.append(f"No new network within {b['name']} was found by the searches, so there is no verdict at this budget.")
        lines.append('')
        for c in (c for c in report['comparisons'] if c['budget'] == b['name'] and c['primary']):
            lines.append(f"Verdict ({b['name']}): modulenas is **{c['primary_verdict']}** against {c['b']}, the best "
                         f"alternative by validation accuracy: {_pts(c['diff'])} points [{_pts(c['primary_low'])}, "
                         f"{_pts(c['primary_high'])}], Holm-corrected over {report['n_primary']} budget{'s' if report['n_primary'] != 1 else ''} "
                         f"(p = {c['primary_p_holm']:.3f}).")
        lines.append('')
    lines += ['All comparisons (modulenas minus each alternative, points, intervals and p Holm-corrected over all '
              f"{len(report['comparisons'])}):", '', '| budget | against | difference [corrected interval] | p (Holm) | verdict |',
              '|---|---|---:|---:|---|']
    lines += [f"| {c['budget']} | {c['b']} | {_pts(c['diff'])} [{_pts(c['all_low'])}, {_pts(c['all_high'])}] | "
              f"{c['all_p_holm']:.3f} | {c['all_verdict']} |" for c in report['comparisons']]
    lines += ['', 'The parents before any fine-tuning (test half): as they come, and with only their BatchNorm statistics '
              're-estimated on training images.', '', '| parent | params | clean top-1 (source) | JPEG top-1 (card) | test, as they come | test, BatchNorm re-estimated |',
              '|---|---:|---:|---:|---:|---:|']
    lines += [f"| {p['network']} | {p['params']:,} | {p['top1_reported']:.2f}% | {p['top1_jpeg']:.2f}% | {p['test_raw']:.4f} | "
              f"{p['test_bn']:.4f} |" for p in report['parents_untrained']]
    return '\n'.join(lines) + '\n'


def plot(report: dict, path: Path) -> None:
    "Test accuracy against parameters: one line per kind of alternative across the budgets, the modulenas networks marked."
    import matplotlib, matplotlib.ticker; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    style = {'modulenas': dict(marker='*', ms=14, c='crimson'), 'parent': dict(marker='s', c='black'),
             'cut': dict(marker='v', c='tab:orange'), 'pruned': dict(marker='D', c='tab:green'),
             'scratch': dict(marker='o', c='tab:blue'), 'distilled': dict(marker='^', c='tab:purple')}
    kinds = list(dict.fromkeys(s['arm'] for s in report['summary']))
    for arm in kinds:
        ss = sorted((s for s in report['summary'] if s['arm'] == arm and s['params']), key=lambda s: s['params'])
        st = style.get(arm, dict(marker='x', c='gray'))
        ax.errorbar([s['params'] for s in ss], [s['test_after'] for s in ss], fmt='-' if arm != 'modulenas' else 'none',
                    yerr=[[s['test_after'] - s['low'] for s in ss], [s['high'] - s['test_after'] for s in ss]],
                    label=arm, alpha=.85, capsize=2, **st)
    for b in report['budgets']:
        if b['metric'] == 'params': ax.axvline(b['value'], c='lightgray', lw=.8, zorder=0)
    ax.set_xscale('log')
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f'{v / 1e3:.0f}k'))
    ax.set(xlabel='parameters (budgets as grey lines)', ylabel='test accuracy (mean of seeds, 95% bars)',
           title=f"at each budget, {report['args']['steps']} training steps for every network")
    ax.legend(fontsize=8); fig.tight_layout(); fig.savefig(path, dpi=110); plt.close(fig)


def main(out='runs/budgets', budgets='70000,150000,300000,500000', models='*', steps=300, batch=128, seeds=3,
         ft_lr=0.02, ft_clip=2.0, scratch_lrs='0.05,0.1,0.2', reference_mult=10, kd_weight=0.9, kd_temperature=4.0, pop_size=12,
         n_gen=4, constrained_n_gen=8, n_calib=1000, n_val=2000, n_test=0, n_bn=2000, latency_repeats=10, draws=2000, device='cpu', seed=0,
         results=None, progress=True, pick_from=0, pick_steps=0) -> dict:
    "The whole comparison in `out` (resumable); returns the report."
    blist = [parse_budget(b) for b in budgets.split(',')]
    args = dict(budgets=budgets, models=models, steps=steps, batch=batch, seeds=seeds, ft_lr=ft_lr, ft_clip=ft_clip,
                scratch_lrs=[float(x) for x in scratch_lrs.split(',')], reference_mult=reference_mult, kd_weight=kd_weight,
                kd_temperature=kd_temperature, pop_size=pop_size, n_gen=n_gen, constrained_n_gen=constrained_n_gen, n_calib=n_calib, n_val=n_val, n_test=n_test, n_bn=n_bn,
                latency_repeats=latency_repeats, draws=draws, device=device, seed=seed)
    if pick_from: args |= dict(pick_from=pick_from, pick_steps=pick_steps or max(1, steps // 8))  # only when used: older runs resume
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    if (old := _load(out/'args.json')) and {k: v for k, v in old.items() if k != 'budgets'} != {k: v for k, v in args.items() if k != 'budgets'}:
        raise SystemExit(f"error: {out} holds a run with other settings ({out/'args.json'}); use another --out")
    _save(out/'args.json', args)
    args['progress'] = progress
    t0, dev = time.perf_counter(), as_device(device)
    kb = open_kb(str(out/'kb'), [m.strip() for m in models.split(',')])
    data = get_splits('cifar10', n_calib=n_calib, n_val=n_val, seed=seed, protocol='test-half')
    if n_test: data = dataclasses.replace(data, test=data.test.subset(torch.arange(min(n_test, len(data.test)))))
    evaluator = Evaluator(kb, data, eval_config(args), dev)
    res = run_search(out/'search', kb, evaluator, args)
    searched = {b['name']: run_search(out/f"search-{b['name'].replace(' ', '')}-g{constrained_n_gen}-cuts-drop", kb, evaluator, args, b)
                for b in blist}
    largest = max(b['value'] for b in blist) if all(b['metric'] == 'params' for b in blist) else math.inf
    cut_recs = [dict(r, key=k) for k, r in score_cuts(out, kb, evaluator, largest).items()]
    parent_recs = {}
    for name in kb.models():
        c = from_parent(kb, name)
        parent_recs[c.key] = dict(candidate=c.to_dict(), key=c.key, result=evaluator.evaluate(c).to_dict())
    jobs, plans, rows = Jobs(out), _load(out/'plans.json'), []
    for b in blist:
        search_recs = [dict(r, key=k) for run in (res, searched[b['name']]) for k, r in run.archive.items()]
        if b['name'] not in plans: plans[b['name']] = plan_budget(b, search_recs, cut_recs, parent_recs, args); _save(out/'plans.json', plans)
        print(f"budget {b['name']}:", {k: ((v['candidate']['name'] or f"new {v['key'][:6]}") if isinstance(v, dict) and 'candidate' in v else v)
                                      for k, v in plans[b['name']].items()}, flush=True)
        rows += train_budget(b, plans[b['name']], kb, data, evaluator, jobs, args)
    hits = read_hits(out)
    summary = arm_summary(rows, hits, args)
    comps = comparisons(rows, hits, summary, args)
    untrained = parent_reference(out, kb, data, args)
    loss = np.mean([p['top1_reported'] - p['top1_jpeg'] for p in untrained])
    report = dict(args={k: v for k, v in args.items() if k != 'progress'}, budgets=blist, plans=plans,
                  data_note=DATA_NOTE.format(loss=loss, n_val=len(data.val), n_test=len(data.test)),
                  summary=summary, comparisons=comps, n_primary=sum(c['primary'] for c in comps),
                  parents_untrained=untrained, search=dict(evaluations=len(res.archive), cuts_scored=len(cut_recs), constrained={k: dict(evaluations=len(r.archive), seeded_with=[c.name for c in cut_seeds(kb, kb.models(), r.config.limits, search_space(kb, drop_stages=r.config.drop_stages))] if r.config.seed_cuts else []) for k, r in searched.items()}),
                  training_steps=dict(total=int(sum(r['steps'] for r in jobs.rows.values())),
                                      per_network=steps, reference=steps * reference_mult),
                  seconds=dict(this_call=time.perf_counter() - t0, training=sum(r['wall_s'] for r in jobs.rows.values())),
                  machine=dict(platform=platform.platform(), threads=torch.get_num_threads(), torch=torch.__version__,
                               device=str(dev)))
    _save(out/'results.json', report)
    text = budget_tables(report)
    atomic_write_bytes(out/'results.md', text.encode())
    plot(report, out/'budgets.png')
    if results:  # the committed copy the README is made from
        Path(results).parent.mkdir(parents=True, exist_ok=True)
        _save(Path(results), report)
        plot(report, Path(results).with_suffix('.png'))
    print(text); print(f"wrote {out/'results.json'}, {out/'results.md'} and {out/'budgets.png'}" + (f", {results}" if results else ''))
    return report


def parse_args(argv=None) -> dict:
    "The command-line arguments as keyword arguments of `main`."
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    ap.add_argument('--out', default='runs/budgets', help='output folder (rerun to continue)')
    ap.add_argument('--budgets', default='70000,150000,300000,500000',
                    help="budgets, comma-separated: parameters ('70000', '70k') or CPU latency of one image ('2.5ms')")
    ap.add_argument('--models', default='*', help='zoo models for the knowledge base: patterns, comma-separated')
    ap.add_argument('--steps', type=int, default=300, help='training steps for every network (batch --batch)')
    ap.add_argument('--batch', type=int, default=128, help='batch size of every training')
    ap.add_argument('--seeds', type=int, default=3, help='seeds of every training')
    ap.add_argument('--ft-lr', type=float, default=0.02, help='learning rate of the networks with inherited weights')
    ap.add_argument('--ft-clip', type=float, default=2.0, help='gradient-norm clip of the networks with inherited weights')
    ap.add_argument('--scratch-lrs', default='0.05,0.1,0.2', help='learning rates tried for the standard architecture')
    ap.add_argument('--reference-mult', type=int, default=10, help='the reference from-scratch line trains this many times longer (0: none)')
    ap.add_argument('--kd-weight', type=float, default=0.9, help='share of the distillation term in the distilled arm')
    ap.add_argument('--kd-temperature', type=float, default=4.0, help='distillation temperature')
    ap.add_argument('--pop-size', type=int, default=12, help='NSGA-II population')
    ap.add_argument('--n-gen', type=int, default=4, help='NSGA-II generations of the unconstrained search')
    ap.add_argument('--constrained-n-gen', type=int, default=8,
                    help='NSGA-II generations of each search constrained to a budget (far below the parents, finding feasible networks takes a while)')
    ap.add_argument('--n-calib', type=int, default=1000, help='calibration images (training set)')
    ap.add_argument('--n-val', type=int, default=2000, help='validation images (validation half of the test set)')
    ap.add_argument('--n-test', type=int, default=0, help='test images scored: the first this many of the test half (0: all; fewer only for quick checks)')
    ap.add_argument('--n-bn', type=int, default=2000, help='training images for the parents\' BatchNorm-only row')
    ap.add_argument('--latency-repeats', type=int, default=10, help='timed repeats of each latency (0: none, no latency budgets)')
    ap.add_argument('--draws', type=int, default=2000, help='bootstrap resamples')
    ap.add_argument('--device', default='cpu', help='device')
    ap.add_argument('--seed', type=int, default=0, help='seed of the search and the splits')
    ap.add_argument('--results', default=None, help='also write the report here (JSON, the plot beside it as PNG)')
    ap.add_argument('--pick-from', type=int, default=0, help='lever 3, the final pick by short fine-tuning: the N best new networks by score under each budget, halved round by round; the steps it spends are added to every alternative\'s (0: the best by score)')
    ap.add_argument('--pick-steps', type=int, default=0, help='steps of each network in the first round of the pick (0: --steps / 8)')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    a = vars(ap.parse_args(argv))
    for k in ('steps', 'batch', 'seeds', 'pop_size', 'n_gen', 'constrained_n_gen', 'n_calib', 'n_val', 'n_bn', 'draws'):
        if a[k] < 1: ap.error(f"--{k.replace('_', '-')} must be positive, got {a[k]}")
    for k in ('reference_mult', 'latency_repeats', 'n_test', 'pick_from', 'pick_steps'):
        if a[k] < 0: ap.error(f"--{k.replace('_', '-')} must be 0 or more, got {a[k]}")
    try: bl = [parse_budget(b) for b in a['budgets'].split(',')]
    except ValueError as e: ap.error(f"--budgets: {e}")
    if any(b['metric'] == 'latency_ms' for b in bl) and not a['latency_repeats']:
        ap.error('--budgets: a latency budget needs --latency-repeats above 0')
    try: lrs = [float(x) for x in a['scratch_lrs'].split(',')]
    except ValueError: ap.error(f"--scratch-lrs: numbers, comma-separated, got {a['scratch_lrs']!r}")
    if not lrs or not all(math.isfinite(v) and v > 0 for v in lrs): ap.error('--scratch-lrs: positive numbers')
    for k in ('ft_lr', 'ft_clip'):
        if not (math.isfinite(a[k]) and a[k] > 0): ap.error(f"--{k.replace('_', '-')} must be positive")
    import importlib.util
    if importlib.util.find_spec('torch_pruning') is None:
        ap.error('the pruned baseline needs torch-pruning: pip install torch-pruning (or the dev extra, pip install -e ".[dev]")')
    if threads := a.pop('threads'): torch.set_num_threads(threads)
    return a


if __name__ == '__main__':
    main(**parse_args())
