#!/usr/bin/env python
"""The parts of `benchmarks/gpu.sh` that are easier in Python: run one step and record it, describe the machine,
run the `cuda`-flagged notebook cells, run the search, and gather everything into results.json and results.md.

Each step appends one line to OUT/steps.jsonl (status ok / failed / timeout / skipped, exit status, wall seconds,
peak resident memory of its processes); `summary` turns those lines and the steps' own files into the results.
This module imports neither torch nor modulenas at the top, so that recording works whatever is installed.
"""
from __future__ import annotations
import argparse, json, os, platform, re, resource, shutil, signal, subprocess, sys, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(pop_size=4, n_gen=2, n_calib=32, n_val=64)   # the search of `gpu.sh --tiny`, without the random baseline
STEP_ORDER = ['wheels', 'environment', 'cuda_cells', 'bench_evaluate', 'knowledge_base', 'search']


def record(out: Path, **row) -> dict:
    "Append `row` (one step's outcome) to `out`/steps.jsonl; returns it."
    out.mkdir(parents=True, exist_ok=True)
    with open(out/'steps.jsonl', 'a') as f: f.write(json.dumps(row) + '\n')
    return row


def _pump(stream, log, sink, last: list) -> None:
    "Copy the lines of `stream` to `log` and to `sink` as they come; keep the last non-empty one in `last`."
    for line in iter(stream.readline, b''):
        log.write(line); log.flush(); sink.write(line); sink.flush()
        if text := line.decode(errors='replace').split('\r')[-1].strip(): last[:] = [text]


def _stop(proc, grace: float = 20.0) -> None:
    "Interrupt `proc`'s process group (Ctrl-C, so a search leaves a clean archive), then kill it after `grace` s."
    try: os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError: return
    try: proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL); proc.wait()


def run_step(out: Path, name: str, cmd: list[str], limit: float | None = None) -> int:
    "Run `cmd` as step `name`, its output to the console and `out`/steps.log; record it; returns its exit status."
    if limit is not None and limit <= 0:
        record(out, step=name, status='timeout', rc=124, wall_s=0.0, note='not started: the time limit was reached')
        return 124
    out.mkdir(parents=True, exist_ok=True)
    with open(out/'steps.log', 'ab') as log:
        log.write(f"\n=== {name}: {' '.join(cmd)}\n".encode()); log.flush()
        print(f"\n=== {name}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        last = []
        pump = threading.Thread(target=_pump, args=(proc.stdout, log, sys.stdout.buffer, last), daemon=True)
        pump.start()
        try: rc = proc.wait(limit)
        except subprocess.TimeoutExpired: _stop(proc); rc = 124
        except KeyboardInterrupt: _stop(proc); raise
        pump.join(5)
        wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9   # KiB on Linux
    status = 'ok' if rc == 0 else 'timeout' if rc == 124 else 'failed'
    note = (f'stopped after the {limit:.0f} s left to it' if status == 'timeout' else
            ''.join(last)[:200].replace('|', '/') if status == 'failed' else '')
    record(out, step=name, status=status, rc=rc, wall_s=round(wall, 2), peak_rss_gb=round(rss, 3), note=note)
    print(f"=== {name}: {status} (exit {rc}) in {wall:.1f} s", flush=True)
    return rc


def _version(mod: str) -> dict | None:
    "Version and location of module `mod`, or None when it does not import."
    try: m = __import__(mod)
    except Exception: return None
    return dict(version=getattr(m, '__version__', '?'), path=str(Path(m.__file__).parent))


def _nvidia_smi() -> str | None:
    "nvidia-smi's one-line description of each GPU, or None without the tool."
    if not shutil.which('nvidia-smi'): return None
    q = '--query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,temperature.gpu'
    r = subprocess.run(['nvidia-smi', q, '--format=csv,noheader'], capture_output=True, text=True, timeout=30)
    return (r.stdout or r.stderr).strip()


def environment(out: Path, device: str) -> int:
    "Print and write `out`/env.json: Python, torch, CUDA, the GPU, the packages and the data; 1 if `device` can't run."
    import torch
    from modulenas.core import shared_dir
    cuda = torch.cuda.is_available()
    shared = shared_dir()
    env = dict(python=platform.python_version(), executable=sys.executable, cores=os.cpu_count(),
               torch=torch.__version__, torch_cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
               cuda_available=cuda, gpus=torch.cuda.device_count() if cuda else 0,
               gpu=torch.cuda.get_device_name(0) if cuda else None,
               gpu_capability='.'.join(map(str, torch.cuda.get_device_capability(0))) if cuda else None,
               gpu_memory_gb=round(torch.cuda.get_device_properties(0).total_memory / 1e9, 1) if cuda else None,
               nvidia_smi=_nvidia_smi(), device=device,
               packages={m: _version(m) for m in ('numpy', 'torchvision', 'pymoo', 'fastcore', 'nbdev')},
               shared=str(shared) if shared else None,
               zoo=bool(shared and any((shared/'zoo').glob('*'))),
               cifar10=bool(shared and (shared/'data'/'cifar10-jpg.tar.gz').exists()))
    (out/'env.json').write_text(json.dumps(env, indent=1))
    for k, v in env.items(): print(f"{k}: {v}")
    problems = [f"--device {device} but torch sees no CUDA device"] if device.startswith('cuda') and not cuda else []
    problems += [f"{m} does not import" for m in ('pymoo', 'fastcore') if env['packages'][m] is None]
    if not (env['zoo'] and env['cifar10']):
        print("warning: no local zoo weights or CIFAR-10 archive (see README, Offline use): they will be downloaded")
    for p in problems: print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


def cuda_cells() -> int:
    "Run the notebooks that hold `#| cuda` cells with that flag on; 1 if one fails."
    from nbdev.test import nbdev_test
    nbs = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
                 if '.ipynb_checkpoints' not in p.parts and re.search(r'#\|\s*cuda\b', p.read_text()))
    print('notebooks with cuda cells:', ', '.join(p.name for p in nbs) or 'none')
    for nb in nbs:
        try: nbdev_test(path=str(nb), flags='cuda', timing=True)
        except SystemExit as e:
            if e.code: return int(e.code) if isinstance(e.code, int) else 1
    return 0


def search(kb: str, run_dir: str, facts: Path, budget: str, device: str) -> int:
    "Run `modulenas-search` with `budget`'s sizes on `device`; write its time and peak memory to `facts`."
    import torch
    from modulenas.pipeline import BUDGETS, search_cli
    b = TINY if budget == 'tiny' else {k: BUDGETS[budget][k] for k in TINY}
    dev, strategy = torch.device(device), 'nsga2' if budget == 'tiny' else 'nsga2,random'
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
    print(f"modulenas-search {kb} --run-dir {run_dir} --device {device} " +
          ' '.join(f"--{k.replace('_', '-')} {v}" for k, v in b.items()) + f' --strategy {strategy}',
          flush=True)
    t0 = time.perf_counter()
    search_cli(kb, run_dir=run_dir, device=device, strategies=strategy, **b)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    cuda = torch.cuda.max_memory_allocated(dev) / 1e9 if dev.type == 'cuda' else None
    facts.write_text(json.dumps(dict(budget=budget, sizes=b, random_baseline=budget != 'tiny', search_s=wall,
                                     peak_rss_gb=rss, peak_cuda_gb=cuda), indent=1))
    return 0


def _read(path: Path) -> dict:
    "The JSON object in `path`, or {} when it is missing or unreadable."
    try: return json.loads(path.read_text())
    except (OSError, ValueError): return {}


def _steps(out: Path) -> list[dict]:
    "The recorded steps, in `STEP_ORDER` (the last record of each name wins)."
    rows = {}
    if (out/'steps.jsonl').exists():
        for line in (out/'steps.jsonl').read_text().splitlines():
            if line.strip(): r = json.loads(line); rows[r['step']] = r
    return sorted(rows.values(), key=lambda r: STEP_ORDER.index(r['step']) if r['step'] in STEP_ORDER else 99)


def _search_figures(out: Path, run_dir: Path, steps: dict) -> dict:
    "Evaluations, seconds and candidates/s of the search (from its run folder when it was stopped early)."
    facts, pareto = _read(out/'search.json'), _read(run_dir/'pareto.json')
    if pareto: (out/'pareto.json').write_text(json.dumps(pareto, indent=1))
    evals = run_dir/'evaluations.jsonl'
    n = len({json.loads(l)['key'] for l in evals.read_text().splitlines() if l.strip()}) if evals.exists() else 0
    wall = facts.get('search_s') or steps.get('search', {}).get('wall_s')
    hv = lambda s: pareto['hv'][s][-1][1] if pareto.get('hv', {}).get(s) else None
    return dict(finished=bool(pareto), evaluations=n, search_s=wall, candidates_per_s=n / wall if wall else None,
                step_s=steps.get('search', {}).get('wall_s'), sizes=facts.get('sizes'),
                peak_cuda_gb=facts.get('peak_cuda_gb'), peak_rss_gb=facts.get('peak_rss_gb'),
                hv_nsga=hv('nsga2'), hv_random=hv('random'), front=len(pareto.get('fronts', {}).get('nsga2', [])) or None)


def _bench_figures(out: Path) -> dict:
    "The headline figures of bench_evaluate's JSON."
    rep = _read(out/'bench_evaluate.json')
    s, a = rep.get('summary', {}), rep.get('args', {})
    keys = ('candidates', 'errors', 'candidates_per_s', 'evaluator_images_per_s', 'plain_forward_images_per_s',
            'ratio_evaluator_to_plain', 'per_candidate_s_median', 'mix_per_candidate_s_median', 'eval_s', 'wall_s',
            'peak_rss_gb', 'peak_cuda_gb')
    return {'n_val': a.get('n_val'), 'n_calib': a.get('n_calib'), **{k: s.get(k) for k in keys}} if s else {}


def _fmt(v) -> str:
    "A figure for the markdown table."
    if v is None: return '-'
    if isinstance(v, float): return f'{v:.3g}' if abs(v) < 1000 else f'{v:,.0f}'
    return str(v)


def results_md(res: dict) -> str:
    "The results as markdown: the steps, then the figures."
    env, a = res['env'], res['args']
    gpu = env.get('gpu') or 'no GPU'
    lines = [f"# gpu.sh results, {res['finished']}", '',
             f"device {a['device']}, budget {a['budget']}; {gpu}; torch {env.get('torch', '?')} "
             f"(CUDA {env.get('torch_cuda') or '-'}), Python {env.get('python', '?')}, {env.get('cores', '?')} cores", '']
    if env.get('nvidia_smi'): lines += [f"nvidia-smi: {env['nvidia_smi']}", '']
    lines += ['| step | status | exit | seconds | peak RSS GB | note |', '|---|---|---:|---:|---:|---|']
    lines += [f"| {r['step']} | {r['status']} | {_fmt(r.get('rc'))} | {_fmt(r.get('wall_s'))} | "
              f"{_fmt(r.get('peak_rss_gb'))} | {r.get('note', '')} |" for r in res['steps']]
    for title, figs in (('bench_evaluate', res['figures']['bench_evaluate']), ('search', res['figures']['search'])):
        rows = [f'| {k} | {_fmt(v)} |' for k, v in figs.items() if v is not None and not isinstance(v, dict)]
        lines += ['', f'## {title}', '']
        lines += ['| figure | value |', '|---|---:|', *rows] if rows else ['no figures: the step did not finish']
    lines += ['', f"peak RSS of any step: {_fmt(res['figures']['peak_rss_gb'])} GB; "
              f"peak CUDA allocation: {_fmt(res['figures']['peak_cuda_gb'])} GB", '',
              'all steps ok' if res['ok'] else 'FAILED: ' + ', '.join(res['failed']), '']
    return '\n'.join(lines)


def summary(out: Path, run_dir: Path, device: str, budget: str, work: str) -> int:
    "Write `out`/results.json and results.md from the recorded steps; print the markdown; 1 if a step failed."
    steps = _steps(out)
    by = {r['step']: r for r in steps}
    bench, srch = _bench_figures(out), _search_figures(out, run_dir, by)
    peaks = lambda k: [v for v in (bench.get(k), srch.get(k)) if v is not None]
    figures = dict(wall_s={r['step']: r.get('wall_s') for r in steps}, bench_evaluate=bench, search=srch,
                   peak_rss_gb=max([r.get('peak_rss_gb') or 0 for r in steps] + peaks('peak_rss_gb'), default=None),
                   peak_cuda_gb=max(peaks('peak_cuda_gb'), default=None))
    failed = [r['step'] for r in steps if r['status'] not in ('ok', 'skipped')]
    res = dict(finished=time.strftime('%Y-%m-%d %H:%M:%S'), args=dict(device=device, budget=budget, out=str(out),
               work=work), env=_read(out/'env.json'), steps=steps, figures=figures, failed=failed, ok=not failed)
    (out/'results.json').write_text(json.dumps(res, indent=1))
    md = results_md(res)
    (out/'results.md').write_text(md)
    print(md)
    return 0 if res['ok'] else 1


def parse_args(argv=None):
    "The subcommand and its arguments."
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('run', help='run one step and record it'); p.add_argument('out', type=Path)
    p.add_argument('name'); p.add_argument('--limit', type=float, default=None); p.add_argument('command', nargs='+')
    p = sub.add_parser('skip', help='record a step that was not run'); p.add_argument('out', type=Path)
    p.add_argument('name'); p.add_argument('reason')
    p = sub.add_parser('env', help='describe the machine'); p.add_argument('out', type=Path); p.add_argument('device')
    sub.add_parser('cells', help='run the cuda-flagged notebook cells')
    p = sub.add_parser('search', help='run the search'); p.add_argument('kb'); p.add_argument('run_dir')
    p.add_argument('facts', type=Path); p.add_argument('budget'); p.add_argument('device')
    p = sub.add_parser('summary', help='write results.json and results.md'); p.add_argument('out', type=Path)
    p.add_argument('run_dir', type=Path); p.add_argument('device'); p.add_argument('budget'); p.add_argument('work')
    return ap.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.cmd == 'run': return run_step(a.out, a.name, a.command, a.limit)
    if a.cmd == 'skip':
        record(a.out, step=a.name, status='skipped', rc=None, wall_s=0.0, note=a.reason)
        print(f"\n=== {a.name}: skipped ({a.reason})"); return 0
    if a.cmd == 'env': return environment(a.out, a.device)
    if a.cmd == 'cells': return cuda_cells()
    if a.cmd == 'search': return search(a.kb, a.run_dir, a.facts, a.budget, a.device)
    return summary(a.out, a.run_dir, a.device, a.budget, a.work)


if __name__ == '__main__':
    sys.exit(main())
