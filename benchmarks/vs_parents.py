#!/usr/bin/env python
"""Do searched networks beat the parents they came from? One command answers it on the honest protocol.

1. a knowledge base cut from the zoo (all seven parents by default);
2. a search (NSGA-II by default; `--strategy`) of error and parameters scored on the validation half of the CIFAR-10 test set, which no
   parent was trained on;
3. the best new networks spread along the front and every parent, fine-tuned with one budget (same steps, batch,
   schedule and seed), each scored once on the test half;
4. the best new network's architecture trained from random initialisation with the compute the search and its
   fine-tuning took (wall seconds turned into training steps at the measured speed of that network): what the
   inherited weights are worth.

Prints and writes a table (params, FLOPs, latency, validation before fine-tuning, test after with its 95% interval),
each new network's test accuracy minus each parent's on the same images (paired bootstrap intervals: which
differences the 5,000 test images can tell apart), a plot of test accuracy against parameters with the parents
marked, and the test hypervolume of the parents alone and of the parents with the new networks (same reference
point). Run it again and it continues where it stopped: the search
resumes from its archive, fine-tuned networks and the from-scratch run are kept.

On this 2-core CPU, the defaults take about two hours:   python benchmarks/vs_parents.py
The README's table, three more generations that left the front as it was:   python benchmarks/vs_parents.py --n-gen 8
On a GPU, larger:   python benchmarks/vs_parents.py --device cuda --pop-size 40 --n-gen 25 --n-val 5000 --steps 2000
Another strategy, reusing the parents an earlier run fine-tuned with the same budget:
    python benchmarks/vs_parents.py --out runs/vs_parents_splice --strategy splice --parents-from runs/vs_parents
A search ranking by the refined score (30 steps of adapter, BatchNorm and classifier training per candidate):
    python benchmarks/vs_parents.py --out runs/vs_parents_refine --refine-steps 30 --n-gen 3 --parents-from runs/vs_parents
"""
from __future__ import annotations
import json, platform, time
from pathlib import Path

import numpy as np
import torch

from modulenas.arch import Candidate
from modulenas.assemble import assemble
from modulenas.core import as_device, atomic_write_bytes, count_params
from modulenas.data import accuracy, top1_correct
from modulenas.evaluate import finetune, measure_latency, resolve_config
from modulenas.export import load_network
from modulenas.pipeline import (setup_parts, add_hits, choose_winners, finetune_main, new_front, read_hits, read_run,
                                versus_parents)
from modulenas.search import hypervolume, pareto_mask
from modulenas.pipeline import search_main
from modulenas.spec import RunSpec

from _common import Formatter, accuracy_interval, open_kb, paired_differences

GOAL_PARAMS = 464_154  # ResNet-32's size: the goal is a new network no larger that matches ResNet-56


def _save(path: Path, obj) -> None:
    "Write `obj` as indented JSON, atomically."
    atomic_write_bytes(path, json.dumps(obj, indent=1).encode())


def _load(path: Path) -> dict:
    "The JSON object in `path`, or an empty dict."
    return json.loads(path.read_text()) if path.exists() else {}


def run_search(out: Path, args: dict):
    "The search (resumed when interrupted) and its compute: the wall seconds of all its evaluations."
    res = search_main(RunSpec.of(str(out/'kb'), str(out/'search'), objectives='error,params', pop_size=args['pop_size'],
                                 n_gen=args['n_gen'], seed=args['seed'], dataset='cifar10', n_calib=args['n_calib'],
                                 n_val=args['n_val'], refine_steps=args['refine_steps'], device=args['device'],
                                 strategies=args['strategy'], protocol='test-half'))
    return res, sum(r['result'].get('wall_s') or 0.0 for r in res.archive.values())


def check_parents_from(other: Path, args: dict) -> None:
    "Refuse, before any work, a comparison in `other` whose parents were fine-tuned with another budget or data size."
    same = ('models', 'n_calib', 'n_val', 'steps', 'lr', 'batch', 'seed')
    theirs = _load(other/'args.json')
    if diff := [k for k in same if theirs.get(k) != args[k]]:
        raise SystemExit(f"error: --parents-from {other}: it ran with other {', '.join(diff)} (or holds no comparison)")


def reuse_parents(out: Path, other: Path, args: dict) -> int:
    """Copy the parents' fine-tuned rows and networks from the comparison in `other` into this one, when both ran on
    the same data and knowledge base with the same fine-tuning budget (every other setting may differ, e.g. the
    strategy): the parents' fine-tuning does not depend on the search. Returns how many were copied."""
    import shutil
    check_parents_from(other, args)
    mine_cfg, their_cfg = _load(out/'search'/'config.json'), _load(other/'search'/'config.json')
    refines = lambda cfg: bool(cfg.get('setup', {}).get('eval', {}).get('refine_steps'))
    checks = [('data', lambda c: c.get('setup', {}).get('data')),
              ('knowledge base', lambda c: (c.get('knowledge_base') or {}).get('fingerprint'))]
    if refines(mine_cfg) == refines(their_cfg):  # the images scored on (a refining search's include the training split)
        checks.append(('images', lambda c: c.get('data')))
    for what, get in checks:
        if get(mine_cfg) != get(their_cfg):
            raise SystemExit(f"error: --parents-from {other}: its search ran on other {what} ({get(their_cfg)} here {get(mine_cfg)})")
    src = _load(other/'search'/'finetune'/'results.json')
    dst_path = out/'search'/'finetune'/'results.json'
    dst = _load(dst_path) or dict(settings=src.get('settings'), rows=[])
    if not src or dst['settings'] != src['settings']:
        raise SystemExit(f"error: --parents-from {other}: no fine-tuned parents with this run's settings there")
    have, n = {r['key'] for r in dst['rows']}, 0
    for r in src['rows']:
        if not r.get('zoo') or r['key'] in have: continue
        folder = dst_path.parent/Path(r['folder']).name
        if not folder.exists(): shutil.copytree(r['folder'], folder)
        dst['rows'].append(dict(r, folder=str(folder))); n += 1
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    theirs = read_hits(other/'search'/'finetune')
    if hits := {r['key']: theirs[r['key']] for r in dst['rows'] if r['key'] in theirs}: add_hits(dst_path.parent, hits)
    atomic_write_bytes(dst_path, json.dumps(dst, indent=1).encode())
    return n


def add_latency(rows: list[dict], device, path: Path, repeats: int = 20) -> list[dict]:
    "Each fine-tuned network's latency (batch 1, median ms) on its exported folder, measured once and kept in `path`."
    known = _load(path)
    for r in rows:
        if r['key'] not in known and r.get('folder'):
            known[r['key']] = measure_latency(load_network(r['folder']).to(device), repeats=repeats, device=device)
            _save(path, known)
        r['latency_ms'] = known.get(r['key'])
    return rows


def _reinitialised(candidate: Candidate, kb, device) -> torch.nn.Module:
    "The network of `candidate` (adapters included, shapes as stitched) with every weight drawn afresh."
    net = assemble(candidate, kb, device=device)
    torch.manual_seed(0)
    for m in net.modules():
        if m is not net and hasattr(m, 'reset_parameters'): m.reset_parameters()
    return net


def _seconds_per_step(net, data, batch: int, lr: float, device, probe: int = 10) -> float:
    "Measured wall seconds of one training step of `net` (a short run on a copy, after one warm-up step)."
    import copy
    work = copy.deepcopy(net)
    finetune(work, data, steps=1, lr=lr, batch_size=batch, device=device, warmup=0)
    t0 = time.perf_counter()
    finetune(work, data, steps=probe, lr=lr, batch_size=batch, device=device, warmup=0)
    return (time.perf_counter() - t0) / probe


def from_scratch(out: Path, best: dict, ft_row: dict, args: dict, search_s: float) -> dict:
    "Train the best new network's architecture from random weights with the compute of the search and its fine-tuning."
    path = out/'scratch.json'
    if (old := _load(path)).get('key') == best['key'] and old.get('test_after') is not None: return old
    run = read_run(out/'search')
    kb, data, cfg, dev = setup_parts(run, args['device'])
    cand = Candidate.from_dict(best['candidate'])
    net = _reinitialised(cand, kb, dev)
    budget_s = search_s + ft_row['wall_s']
    per_step = None if args['scratch_steps'] else _seconds_per_step(net, data, args['batch'], args['scratch_lr'], dev)
    steps = args['scratch_steps'] or max(args['steps'], int(budget_s / per_step))
    t0 = time.perf_counter()
    finetune(net, data, steps=steps, lr=args['scratch_lr'], batch_size=args['batch'], seed=args['seed'], device=dev)
    per_step = per_step or (time.perf_counter() - t0) / steps  # a fixed number of steps: their measured speed
    run_kw = dict(mean=net.mean, std=net.std, batch_size=resolve_config(cfg, dev).batch_size)
    hits = top1_correct(net, data.test, **run_kw).numpy()
    add_hits(out, {_hits_id('scratch', best['key']): hits})
    row = dict(name=f"{ft_row['name']} from scratch", key=best['key'], kind='scratch', params=count_params(net),
               flops=ft_row['flops'], latency_ms=ft_row.get('latency_ms'), val_before=None,
               val_after=accuracy(net, data.val, **run_kw), test_after=float(hits.mean()),
               steps=steps, budget_s=budget_s, seconds_per_step=per_step, wall_s=time.perf_counter() - t0,
               lr=args['scratch_lr'])
    _save(path, row)
    return row


def _hits_id(kind: str, key: str) -> str: return f'{kind}-{key}'


def test_hits(out: Path, rows: list[dict], args: dict) -> dict[str, np.ndarray]:
    """Per row name, whether the network classifies each test image correctly, kept in OUT/test_hits.npz: as its
    fine-tuning recorded it, or else worked out from its exported folder (the from-scratch network keeps its own)."""
    known = read_hits(out)
    todo = [r for r in rows if r.get('folder') and _hits_id(r['kind'], r['key']) not in known]
    from_finetuning = read_hits(out/'search'/'finetune')  # kept as each network was fine-tuned
    if done := {_hits_id(r['kind'], r['key']): from_finetuning[r['key']] for r in todo if r['key'] in from_finetuning}:
        known |= done; add_hits(out, done)
        todo = [r for r in todo if _hits_id(r['kind'], r['key']) not in known]
    if todo:  # fine-tuned before the hits were kept: scored again from the exported folders
        _, data, cfg, dev = setup_parts(read_run(out/'search'), args['device'])
        for r in todo:
            net = load_network(r['folder'], dev)
            hits = top1_correct(net, data.test, net.mean, net.std, resolve_config(cfg, dev).batch_size).numpy()
            if abs(hits.mean() - r['test_after']) > 2 / len(hits):
                print(f"note: {r['name']} scores {hits.mean():.4f} on the test half from its exported folder, "
                      f"{r['test_after']:.4f} when it was fine-tuned")
            i = _hits_id(r['kind'], r['key']); known[i] = hits; add_hits(out, {i: hits})
    return {r['name']: known[i] for r in rows if (i := _hits_id(r['kind'], r['key'])) in known}


def add_intervals(rows: list[dict], hits: dict[str, np.ndarray]) -> list[dict]:
    "Each row's 95% (Wilson) interval of its test accuracy, on the test half's size."
    n = len(next(iter(hits.values())))
    for r in rows: r['test_low'], r['test_high'] = accuracy_interval(round(r['test_after'] * n), n)
    return rows


def comparisons(rows: list[dict], hits: dict[str, np.ndarray]) -> list[dict]:
    """Test accuracy of each new network minus each parent's, and of the from-scratch network minus its inherited twin's,
    on the same images, with 95% paired bootstrap intervals."""
    by_size = sorted(rows, key=lambda r: r['params'])
    new, parents = [r['name'] for r in by_size if r['kind'] == 'new'], [r['name'] for r in by_size if r['kind'] == 'parent']
    pairs = [(a, b) for a in new for b in parents]
    pairs += [(r['name'], r['name'].removesuffix(' from scratch')) for r in rows if r['kind'] == 'scratch']
    return paired_differences(hits, [(a, b) for a, b in pairs if a in hits and b in hits])


def comparison_table(pairs: list[dict], n: int) -> str:
    "The new networks against the parents as a markdown matrix (points, with intervals); then the from-scratch line."
    cell = lambda p: f"{100 * p['diff']:+.1f} [{100 * p['low']:+.1f}, {100 * p['high']:+.1f}]"
    scratch = [p for p in pairs if p['a'].endswith(' from scratch')]
    grid = [p for p in pairs if p not in scratch]
    new, parents = list(dict.fromkeys(p['a'] for p in grid)), list(dict.fromkeys(p['b'] for p in grid))
    at = {(p['a'], p['b']): p for p in grid}
    lines = [f"test accuracy minus the parent's, in points [95% paired bootstrap interval, the {n:,} test images resampled]:", '',
             '| new network | ' + ' | '.join(parents) + ' |', '|---|' + '---:|' * len(parents)]
    lines += [f"| {a} | " + ' | '.join(cell(at[a, b]) for b in parents) + ' |' for a in new]
    lines += [f"{p['a']} minus {p['b']}: {cell(p)} points" for p in scratch]
    return '\n'.join(lines) + '\n'


def test_hypervolumes(rows: list[dict]) -> dict:
    "Test-split hypervolume (error, params / largest params, reference 1.1) of the parents, and of parents + new."
    scale = max(r['params'] for r in rows)
    F = lambda rs: [[1 - r['test_after'], r['params']] for r in rs]
    parents, new = [r for r in rows if r['kind'] == 'parent'], [r for r in rows if r['kind'] == 'new']
    return dict(parents=hypervolume(F(parents), [1.0, scale]), parents_and_new=hypervolume(F(parents + new), [1.0, scale]),
                params_scale=scale, reference=1.1)


def goal_line(rows: list[dict]) -> str:
    "Whether a new network no larger than ResNet-32 matches ResNet-56 of either lineage after the same fine-tuning."
    r56 = [r for r in rows if r['kind'] == 'parent' and r['name'].endswith('resnet56')]
    small = [r for r in rows if r['kind'] == 'new' and r['params'] <= GOAL_PARAMS]
    if not r56 or not small: return 'goal: no new network of at most 0.46 M parameters (or no ResNet-56) was fine-tuned'
    best, bar = max(small, key=lambda r: r['test_after']), min(r['test_after'] for r in r56)
    verdict = 'matches' if best['test_after'] >= bar else 'falls short of'
    return (f"goal: {best['name']} ({best['params']:,} params, test {best['test_after']:.4f}) {verdict} the weaker "
            f"ResNet-56 (test {bar:.4f})")


def _interval(r: dict) -> str:
    return '-' if r.get('test_low') is None else f"{r['test_low']:.3f}-{r['test_high']:.3f}"


def table(rows: list[dict]) -> str:
    "The results as a markdown table, most accurate on the test split first."
    head = ('| network | kind | params | MFLOPs | latency ms | val before | test after | 95% interval | steps |\n'
            '|---|---|---:|---:|---:|---:|---:|---:|---:|\n')
    fmt = lambda v, f: '-' if v is None else format(v, f)
    return head + '\n'.join(
        f"| {r['name']} | {r['kind']} | {r['params']:,} | {r['flops'] / 1e6:.1f} | {fmt(r.get('latency_ms'), '.2f')} | "
        f"{fmt(r.get('val_before'), '.4f')} | {r['test_after']:.4f} | "
        f"{_interval(r)} | {r.get('steps', '-')} |"
        for r in sorted(rows, key=lambda r: -r['test_after'])) + '\n'


def plot(rows: list[dict], path: Path):
    "Test accuracy against parameters: parents starred with their front, new networks, the from-scratch network."
    import matplotlib, matplotlib.ticker; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    style = dict(parent=dict(marker='*', s=160, c='crimson'), new=dict(marker='o', s=60, c='tab:blue'),
                 scratch=dict(marker='x', s=70, c='gray'))
    for kind, st in style.items():
        rs = [r for r in rows if r['kind'] == kind]
        if rs: ax.scatter([r['params'] for r in rs], [r['test_after'] for r in rs], label=kind, zorder=3, **st)
        if bars := [r for r in rs if r.get('test_low') is not None]:  # the 95% intervals
            ax.errorbar([r['params'] for r in bars], [r['test_after'] for r in bars], fmt='none', ecolor=st['c'], alpha=.5, lw=1,
                        yerr=[[r['test_after'] - r['test_low'] for r in bars], [r['test_high'] - r['test_after'] for r in bars]])
        for r in rs: ax.annotate(r['name'], (r['params'], r['test_after']), fontsize=7, xytext=(4, 3), textcoords='offset points')
    parents = [r for r in rows if r['kind'] == 'parent']
    mask = pareto_mask([[1 - r['test_after'], r['params']] for r in parents])
    front = sorted((r['params'], r['test_after']) for r, m in zip(parents, mask) if m)
    if front: ax.step(*zip(*front), where='post', c='crimson', lw=1, alpha=.6, label="parents' front")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f'{v / 1e3:.0f}k'))
    ax.set(xlabel='parameters', ylabel='test accuracy (test half, after equal fine-tuning; 95% bars)',
           title='searched networks against their parents')
    ax.legend(fontsize=8); fig.tight_layout(); fig.savefig(path, dpi=110); plt.close(fig)


def main(out='runs/vs_parents', models='*', pop_size=16, n_gen=5, n_calib=1000, n_val=2000, top_k=3, steps=300,
         lr=0.02, batch=128, scratch=True, scratch_lr=0.1, scratch_steps=0, device='cpu', seed=0, strategy='nsga2',
         refine_steps=0, parents_from=None) -> dict:
    "The whole comparison in `out` (resumable); returns the report."
    args = dict(models=models, pop_size=pop_size, n_gen=n_gen, n_calib=n_calib, n_val=n_val, top_k=top_k, steps=steps,
                lr=lr, batch=batch, scratch=scratch, scratch_lr=scratch_lr, scratch_steps=scratch_steps, device=device, seed=seed,
                strategy=strategy, refine_steps=refine_steps)
    if parents_from: check_parents_from(Path(parents_from), args)
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    if (old := _load(out/'args.json')):  # written before these were choices
        old.setdefault('strategy', 'nsga2'); old.setdefault('refine_steps', 0)
    if old and old != args:
        raise SystemExit(f"error: {out} holds a run with other settings ({out/'args.json'}); use another --out")
    _save(out/'args.json', args)
    if pop_size < 7: print('note: with a population under 7 not every parent is in the first generation')
    dev, t0 = as_device(device), time.perf_counter()
    print(open_kb(str(out/'kb'), [m.strip() for m in models.split(',')]))
    res, search_s = run_search(out, args)
    if parents_from: print(f"{reuse_parents(out, Path(parents_from), args)} fine-tuned parents copied from {parents_from}")
    ft = finetune_main(out/'search', top_k, steps, lr, batch, zoo=True, onnx=False, device=device)
    rows = add_latency([dict(r, kind='parent' if r.get('zoo') else 'new') for r in ft], dev, out/'latency.json')
    winners = choose_winners(new_front(read_run(out/'search')), top_k)
    if scratch and winners:
        best_row = next(r for r in rows if r.get('key') == winners[0]['key'])
        rows.append(from_scratch(out, winners[0], best_row, args, search_s))
    hits = test_hits(out, rows, args)
    if hits: add_intervals(rows, hits)
    pairs = comparisons(rows, hits) if hits else []
    hv = test_hypervolumes(rows)
    seconds = dict(search=search_s, finetune=sum(r['wall_s'] for r in rows if r['kind'] != 'scratch'),
                   scratch=sum(r['wall_s'] for r in rows if r['kind'] == 'scratch'), this_call=time.perf_counter() - t0)
    lines = versus_parents([dict(r, zoo=r['kind'] == 'parent') for r in rows if r['kind'] != 'scratch'])
    report = dict(args=args, rows=rows, paired=pairs, test_hypervolume=hv, goal=goal_line(rows), versus_parents=lines,
                  search=dict(strategy=strategy, evaluations=len(res.archive), hv=res.hv[strategy], hv_new=res.hv_new),
                  parents_from=parents_from,
                  seconds=seconds, machine=dict(platform=platform.platform(), threads=torch.get_num_threads()))
    _save(out/'results.json', report)
    text = '\n'.join([table(rows), *([comparison_table(pairs, len(next(iter(hits.values()))))] if pairs else []), report['goal'], *[f'- {l}' for l in lines], '',
                      f"test hypervolume (error, params / {hv['params_scale']:,}; reference {hv['reference']}): "
                      f"parents {hv['parents']:.4f}, parents + new {hv['parents_and_new']:.4f}", '',
                      'seconds: ' + ', '.join(f'{k} {v:.0f}' for k, v in seconds.items())
                      + ' (search: the summed wall time of its evaluations)'])
    atomic_write_bytes(out/'results.md', text.encode())
    plot(rows, out/'vs_parents.png')
    print(text); print(f"wrote {out/'results.json'}, {out/'results.md'} and {out/'vs_parents.png'}")
    return report


def parse_args(argv=None) -> dict:
    "The command-line arguments as keyword arguments of `main`."
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    ap.add_argument('--out', default='runs/vs_parents', help='output folder (rerun to continue)')
    ap.add_argument('--models', default='*', help='zoo models for the knowledge base: patterns, comma-separated')
    ap.add_argument('--pop-size', type=int, default=16, help='NSGA-II population (at least 7 puts every parent in it)')
    ap.add_argument('--n-gen', type=int, default=5,
                    help='NSGA-II generations (with --pop-size 16, the front of 8 generations was complete after 5)')
    ap.add_argument('--n-calib', type=int, default=1000, help='calibration images (training set)')
    ap.add_argument('--n-val', type=int, default=2000, help='validation images (validation half of the test set)')
    ap.add_argument('--top-k', type=int, default=3, help='new networks taken from the front')
    ap.add_argument('--steps', type=int, default=300, help='fine-tuning steps, the same for every network')
    ap.add_argument('--lr', type=float, default=0.02, help='fine-tuning learning rate (SGD, warm-up + cosine)')
    ap.add_argument('--batch', type=int, default=128, help='batch size')
    ap.add_argument('--no-scratch', dest='scratch', action='store_false', help='skip the from-scratch baseline')
    ap.add_argument('--scratch-lr', type=float, default=0.1, help='learning rate of the from-scratch training')
    ap.add_argument('--scratch-steps', type=int, default=0,
                    help='from-scratch training steps (0: as many as the search and fine-tuning took in seconds)')
    ap.add_argument('--device', default='cpu', help='device')
    ap.add_argument('--seed', type=int, default=0, help='seed of the search, the splits and the training')
    ap.add_argument('--strategy', default='nsga2', help='the search strategy (nsga2, splice, or any registered one)')
    ap.add_argument('--refine-steps', type=int, default=0,
                    help="the search's score after this many steps of adapter, BatchNorm and classifier training (0: stitched)")
    ap.add_argument('--parents-from', default=None,
                    help="an earlier comparison's --out whose fine-tuned parents to reuse (same data, models and budget)")
    a = vars(ap.parse_args(argv))
    if a['refine_steps'] < 0: ap.error(f"--refine-steps must be 0 or more, got {a['refine_steps']}")
    for k in ('pop_size', 'n_gen', 'n_calib', 'n_val', 'top_k', 'steps', 'batch'):
        if a[k] < 1: ap.error(f"--{k.replace('_', '-')} must be positive, got {a[k]}")
    return a


if __name__ == '__main__':
    main(**parse_args())
