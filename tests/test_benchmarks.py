"The benchmark scripts in benchmarks/, run as a user runs them, at a tiny size."
import json, subprocess, sys
from pathlib import Path

import pytest

from modulenas.core import shared_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def kb_dir(zoo_dir, tmp_path_factory):
    "A knowledge-base folder shared by the tests (built by the first script); skips without the CIFAR-10 archive."
    if not (shared_dir() / 'data' / 'cifar10-jpg.tar.gz').exists():
        pytest.skip('CIFAR-10 archive not found: set MODULENAS_SHARED to a folder holding data/ (see README)')
    return tmp_path_factory.mktemp('bench') / 'kb'

SMALL = ['--models', 'resnet[23][02]', '--n-cands', 3, '--n-calib', 64, '--n-val', 128]


def run_script(name, *args, timeout=900):
    "Run benchmarks/`name` with `args` in a fresh interpreter; the completed process."
    return subprocess.run([sys.executable, str(ROOT / 'benchmarks' / name), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def test_bench_evaluate(tmp_path, kb_dir):
    out = tmp_path / 'bench.json'
    r = run_script('bench_evaluate.py', '--kb', kb_dir, *SMALL, '--out', out)
    assert r.returncode == 0, r.stderr
    assert 'candidates_per_s' in r.stdout
    report = json.loads(out.read_text())
    s = report['summary']
    assert s['candidates'] == 3 and s['errors'] == 0 and s['candidates_per_s'] > 0 and s['peak_rss_gb'] > 0
    assert 0 < s['ratio_evaluator_to_plain']


def test_fidelity(tmp_path, kb_dir):
    out, png = tmp_path / 'fid.json', tmp_path / 'fid.png'
    args = ['--kb', kb_dir, *SMALL, '--steps', 2, '--refine-steps', '1,2', '--out', out, '--png', png]
    r = run_script('fidelity.py', *args)
    assert r.returncode == 0, r.stderr
    report = json.loads(out.read_text())
    assert report['complete'] and len(report['rows']) == 3 and png.exists()
    assert set(report['kendall_tau']) == {'acc_raw', 'acc_stitched_nohead', 'acc_stitched', 'acc_refined_1',
                                          'acc_refined_2', 'params'}
    row = report['rows'][-1]
    assert 0 < row['refine_s_1'] <= row['refine_s_2'] and 0 <= row['acc_refined_2'] <= 1
    assert report['score_s_median']['acc_refined_2'] >= report['score_s_median']['acc_stitched']
    r2 = run_script('fidelity.py', *args)  # resumes: every row is already there
    assert r2.returncode == 0 and '[1/3]' not in r2.stdout
