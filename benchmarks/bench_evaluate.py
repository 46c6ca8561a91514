#!/usr/bin/env python
"""Benchmark of the evaluator: candidates per second, the evaluator's images/s against a plain forward pass of the
same assembled networks (measured in the same run), seconds per candidate and peak memory.

CPU (the development machine):   python benchmarks/bench_evaluate.py
GPU:                             python benchmarks/bench_evaluate.py --device cuda --n-val 5000
"""
from __future__ import annotations
import json, platform, resource, statistics, time
from pathlib import Path

import torch
from fastcore.script import call_parse, Param, store_true

from modulenas.core import as_device, set_seed
from modulenas.data import get_splits
from modulenas.kb import KnowledgeBase
from modulenas.assemble import assemble
from modulenas.evaluate import EvalConfig, Evaluator, sample_candidates, result_rows, format_table


def open_kb(path: str, pattern: str = 'resnet*') -> KnowledgeBase:
    "The knowledge base at `path`, filled from the zoo models matching `pattern` when it is empty."
    kb = KnowledgeBase(path)
    if not kb.models(): kb.add_zoo(pattern)
    if not kb.models(): raise SystemExit(f"error: no zoo model matching {pattern!r} could be loaded into {path}")
    return kb


def plain_images_per_s(net, images, batch_size: int, device) -> float:
    "Images/s of a plain fp32 eval-mode forward pass of `net` over `images` (normalised floats already on `device`)."
    net.eval()
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    with torch.inference_mode():
        net(images[:batch_size]); sync()                     # warm-up
        t0 = time.perf_counter()
        for i in range(0, len(images), batch_size): net(images[i:i + batch_size])
        sync()
    return len(images) / (time.perf_counter() - t0)


def peak_memory_gb(device) -> dict:
    "Peak resident memory of this process (and peak CUDA allocation on a GPU), in GB."
    out = {'peak_rss_gb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}   # ru_maxrss is in KiB on Linux
    if device.type == 'cuda': out['peak_cuda_gb'] = torch.cuda.max_memory_allocated(device) / 1e9
    return out


@call_parse
def main(kb: Param("knowledge base folder (built from the zoo when empty)", str) = 'runs/kb',
         n_cands: Param("candidates: the zoo networks, then random valid mixtures", int) = 12,
         n_calib: Param("calibration images", int) = 1000,
         n_val: Param("validation images", int) = 2000,
         device: Param("evaluation device", str) = 'cpu',
         batch_size: Param("inference batch size (default: per device)", int) = None,
         refine_steps: Param("refinement steps (0 = off)", int) = 0,
         plain_batch: Param("batch size of the plain forward pass", int) = 250,
         seed: Param("seed of the candidates and the evaluation", int) = 0,
         channels_last: Param("force channels-last memory format (default: on for CUDA only)", store_true) = False,
         amp: Param("force mixed precision (default: on for CUDA only)", store_true) = False,
         threads: Param("torch CPU threads (default: torch's choice)", int) = None,
         out: Param("JSON results file", str) = 'runs/bench_evaluate.json'):
    "Evaluate `n_cands` candidates and print throughput, per-candidate seconds and peak memory."
    if threads: torch.set_num_threads(threads)
    dev = as_device(device)
    set_seed(seed)
    t0 = time.perf_counter()
    knowledge = open_kb(kb)
    data = get_splits('cifar10', n_calib=n_calib, n_val=n_val, seed=seed)
    t_setup = time.perf_counter() - t0
    cands = sample_candidates(knowledge, n_cands, seed=seed)
    config = EvalConfig(n_calib=n_calib, batch_size=batch_size, refine_steps=refine_steps, seed=seed,
                        channels_last=True if channels_last else None, amp=True if amp else None)

    t0 = time.perf_counter()
    ev = Evaluator(knowledge, data, config, dev)
    t_evaluator = time.perf_counter() - t0
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    results = ev.evaluate_many(cands, raise_errors=False)
    t_eval = time.perf_counter() - t0

    # the same networks, assembled again, through a plain fp32 forward pass over the validation images
    plain = []
    for c, r in zip(cands, results):
        if not r.ok: continue
        net = assemble(c, knowledge, device=dev)
        x = torch.cat([x for x, _ in data.val.to(dev).batches(plain_batch, net.mean, net.std)])
        plain.append(plain_images_per_s(net, x, plain_batch, dev))
        del net, x

    ok = [r for r in results if r.ok]
    imgs_per_cand = n_val * (1 + config.raw) + 2 * n_calib + (n_val if refine_steps else 0)
    eval_ips = imgs_per_cand * len(ok) / t_eval
    plain_ips = statistics.mean(plain) if plain else float('nan')
    walls = [r.wall_s for r in ok]
    stages = {}
    for r in ok:
        for k, v in r.stage_s.items(): stages[k] = stages.get(k, 0.0) + v
    zoo_s = {r.candidate['name']: r.wall_s for r in ok if not str(r.candidate.get('name', '')).startswith('mix')}
    summary = dict(candidates=len(results), errors=len(results) - len(ok), eval_s=t_eval,
                   candidates_per_s=len(results) / t_eval, evaluator_images_per_s=eval_ips,
                   plain_forward_images_per_s=plain_ips, ratio_evaluator_to_plain=eval_ips / plain_ips,
                   per_candidate_s_median=statistics.median(walls) if walls else None,
                   per_candidate_s_max=max(walls) if walls else None, zoo_per_candidate_s=zoo_s,
                   stage_s_total=stages, setup_s=t_setup, evaluator_init_s=t_evaluator, **peak_memory_gb(dev))
    env = dict(torch=torch.__version__, device=str(dev), threads=torch.get_num_threads(), python=platform.python_version(),
               cpu=platform.processor() or platform.machine(),
               gpu=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else None)
    args = dict(kb=kb, n_cands=n_cands, n_calib=n_calib, n_val=n_val, device=device, batch_size=batch_size,
                refine_steps=refine_steps, plain_batch=plain_batch, seed=seed, channels_last=channels_last, amp=amp)
    report = dict(args=args, env=env, config=ev.config.to_dict(), summary=summary, results=[r.to_dict() for r in results])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=1))

    print(format_table(result_rows(results)))
    print()
    print(format_table([{'metric': k, 'value': v} for k, v in summary.items() if not isinstance(v, dict)]))
    print('stage seconds (all candidates):', {k: round(v, 2) for k, v in stages.items()})
    print('zoo networks, seconds each:', {k: round(v, 2) for k, v in zoo_s.items()})
    print(f'wrote {out}')
    return report
