"benchmarks/gpu.sh, the GPU measurement, run end to end in its tiny CPU mode as a user runs it."
import json, os, subprocess, sys
from pathlib import Path

import pytest

from modulenas.core import shared_dir

ROOT = Path(__file__).resolve().parents[1]
STEPS = ['wheels', 'environment', 'cuda_cells', 'bench_evaluate', 'knowledge_base', 'search']


@pytest.fixture(scope='module')
def tiny_run(zoo_dir, tmp_path_factory):
    "The output folder and completed process of `gpu.sh --device cpu --tiny`; skips without the CIFAR-10 archive."
    if not (shared_dir() / 'data' / 'cifar10-jpg.tar.gz').exists():
        pytest.skip('CIFAR-10 archive not found: set MODULENAS_SHARED to a folder holding data/ (see README)')
    tmp = tmp_path_factory.mktemp('gpu')
    out = tmp / 'out'
    r = subprocess.run(['bash', str(ROOT / 'benchmarks' / 'gpu.sh'), '--device', 'cpu', '--tiny', '--out', out,
                        '--work', tmp / 'work'], capture_output=True, text=True, timeout=600, cwd=tmp,
                       env={**os.environ, 'PYTHON': sys.executable, 'MODULENAS_SHARED': str(shared_dir())})
    return out, r


def test_help():
    r = subprocess.run(['bash', str(ROOT / 'benchmarks' / 'gpu.sh'), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '--device' in r.stdout and '--tiny' in r.stdout


def test_tiny_cpu_run(tiny_run):
    out, r = tiny_run
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads((out / 'results.json').read_text())
    steps = {s['step']: s for s in res['steps']}
    assert list(steps) == STEPS
    assert steps['cuda_cells']['status'] == 'skipped' and 'CUDA' in steps['cuda_cells']['note']
    assert steps['wheels']['status'] in ('ok', 'skipped')
    for name in ('environment', 'bench_evaluate', 'knowledge_base', 'search'):
        assert steps[name]['status'] == 'ok' and steps[name]['rc'] == 0 and steps[name]['wall_s'] > 0, steps[name]
    assert res['ok'] and not res['failed']
    figs = res['figures']
    assert figs['bench_evaluate']['candidates'] == 3 and figs['bench_evaluate']['ratio_evaluator_to_plain'] > 0
    assert figs['search']['finished'] and figs['search']['evaluations'] > 0 and figs['search']['candidates_per_s'] > 0
    assert figs['peak_rss_gb'] > 0 and figs['peak_cuda_gb'] is None and res['env']['device'] == 'cpu'
    md = (out / 'results.md').read_text()
    assert all(f'| {s} |' in md for s in STEPS) and 'all steps ok' in md
    assert {'bench_evaluate.json', 'pareto.json', 'steps.log'} <= {p.name for p in out.iterdir()}
