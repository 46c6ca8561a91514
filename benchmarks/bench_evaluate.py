#!/usr/bin/env python
"""Benchmark of the evaluator: candidates per second, the evaluator's images/s against a plain forward pass of the
same assembled networks (measured in the same run), seconds per candidate and peak memory.

CPU (the development machine):   python benchmarks/bench_evaluate.py
GPU:                             python benchmarks/bench_evaluate.py --device cuda --n-val 5000

The candidates are the zoo networks of the knowledge base, then random valid mixtures of their modules (seeded).
On a machine shared with other work, compare the process CPU seconds with the wall seconds (`cpu_share`).
"""
from __future__ import annotations
import json, os, platform, resource, statistics, time
from pathlib import Path

import torch

from modulenas.core import as_device, set_seed
from modulenas.data import get_splits
from modulenas.assemble import assemble
from modulenas.evaluate import EvalConfig, Evaluator, sample_candidates, result_rows, format_table

from _common import base_parser, open_kb


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


def images_processed(r, n_val: int, n_calib: int) -> int:
    "Images the evaluator pushed through the network of result `r`: validation passes, adapter fit and BN passes."
    val_passes = sum(k in r.stage_s for k in ('raw', 'stitched', 'refined'))
    fit = n_calib if r.adapter_r2 else 0
    bn = n_calib if r.stage_s.get('bn', 0) > 0.01 else 0
    return val_passes * n_val + fit + bn


def peak_memory_gb(device) -> dict:
    "Peak resident memory of this process (and peak CUDA allocation on a GPU), in GB."
    out = {'peak_rss_gb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}   # ru_maxrss is in KiB on Linux
    if device.type == 'cuda': out['peak_cuda_gb'] = torch.cuda.max_memory_allocated(device) / 1e9
    return out


def is_mix(r) -> bool: return str(r.candidate.get('name') or '').startswith('mix')


def summarize(results, t_eval: float, plain: list[float], n_val: int, n_calib: int) -> dict:
    "Throughput, per-candidate seconds and stage totals of one run."
    ok = [r for r in results if r.ok]
    eval_ips = sum(images_processed(r, n_val, n_calib) for r in ok) / t_eval
    plain_ips = statistics.mean(plain) if plain else float('nan')
    walls, mix_walls = [r.wall_s for r in ok], [r.wall_s for r in ok if is_mix(r)]
    stages = {}
    for r in ok:
        for k, v in r.stage_s.items(): stages[k] = stages.get(k, 0.0) + v
    med = lambda v: statistics.median(v) if v else None
    return dict(candidates=len(results), errors=len(results) - len(ok), eval_s=t_eval,
                candidates_per_s=len(results) / t_eval, evaluator_images_per_s=eval_ips,
                plain_forward_images_per_s=plain_ips, ratio_evaluator_to_plain=eval_ips / plain_ips,
                per_candidate_s_median=med(walls), per_candidate_s_max=max(walls, default=None),
                mix_per_candidate_s_median=med(mix_walls), mix_per_candidate_s_max=max(mix_walls, default=None),
                zoo_per_candidate_s={r.candidate['name']: r.wall_s for r in ok if not is_mix(r)},
                stage_s_total=stages)


def main(kb='runs/kb', models='resnet*', n_cands=12, n_calib=1000, n_val=2000, device='cpu', batch_size=None,
         refine_steps=0, plain_batch=250, seed=0, channels_last=False, amp=False, threads=None,
         out='runs/bench_evaluate.json'):
    "Evaluate `n_cands` candidates and print throughput, per-candidate seconds and peak memory."
    if threads: torch.set_num_threads(threads)
    dev = as_device(device)
    set_seed(seed)
    wall0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    knowledge = open_kb(kb, models)
    data = get_splits('cifar10', n_calib=n_calib, n_val=n_val, seed=seed)
    cands = sample_candidates(knowledge, n_cands, seed=seed)
    config = EvalConfig(n_calib=n_calib, batch_size=batch_size, refine_steps=refine_steps, seed=seed,
                        channels_last=True if channels_last else None, amp=True if amp else None)
    t_setup = time.perf_counter() - wall0

    ev = Evaluator(knowledge, data, config, dev)
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

    summary = summarize(results, t_eval, plain, n_val, n_calib)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    summary |= dict(setup_s=t_setup, wall_s=wall, process_cpu_s=cpu, cpu_share=cpu / wall / torch.get_num_threads(),
                    **peak_memory_gb(dev))
    env = dict(torch=torch.__version__, device=str(dev), threads=torch.get_num_threads(), cores=os.cpu_count(),
               load_avg_start=load0, load_avg_end=os.getloadavg()[0], python=platform.python_version(),
               cpu=platform.processor() or platform.machine(),
               gpu=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else None)
    args = dict(kb=kb, models=models, n_cands=n_cands, n_calib=n_calib, n_val=n_val, device=device,
                batch_size=batch_size, refine_steps=refine_steps, plain_batch=plain_batch, seed=seed,
                channels_last=channels_last, amp=amp)
    report = dict(args=args, env=env, config=ev.config.to_dict(), summary=summary,
                  results=[r.to_dict() for r in results])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=1))

    print(format_table(result_rows(results)))
    print()
    print(format_table([{'metric': k, 'value': v} for k, v in summary.items() if not isinstance(v, dict)]))
    print('stage seconds (all candidates):', {k: round(v, 2) for k, v in summary['stage_s_total'].items()})
    print('zoo networks, seconds each:', {k: round(v, 2) for k, v in summary['zoo_per_candidate_s'].items()})
    print('environment:', env)
    print(f'wrote {out}')
    return report


def parse_args(argv=None) -> dict:
    "The command-line arguments as keyword arguments of `main`."
    ap = base_parser(__doc__, n_cands=12)
    ap.add_argument('--n-calib', type=int, default=1000, help='calibration images')
    ap.add_argument('--n-val', type=int, default=2000, help='validation images')
    ap.add_argument('--device', type=str, default='cpu', help='evaluation device')
    ap.add_argument('--batch-size', type=int, default=None, help='inference batch size (None: per device)')
    ap.add_argument('--refine-steps', type=int, default=0, help='refinement steps (0 = off)')
    ap.add_argument('--plain-batch', type=int, default=250, help='batch size of the plain forward pass')
    ap.add_argument('--seed', type=int, default=0, help='seed of the candidates and the evaluation')
    ap.add_argument('--channels-last', action='store_true', help='channels-last also on CPU (always on CUDA)')
    ap.add_argument('--amp', action='store_true', help='mixed precision also on CPU (always on CUDA)')
    ap.add_argument('--threads', type=int, default=None, help="torch CPU threads (None: torch's choice)")
    ap.add_argument('--out', type=str, default='runs/bench_evaluate.json', help='JSON results file')
    return vars(ap.parse_args(argv))


if __name__ == '__main__':
    main(**parse_args())
