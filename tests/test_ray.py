"""Evaluation on a real local Ray cluster started as the README says (`ray start --head`, separate processes): the same
archive and fronts as in-process, a worker killed mid-batch retried with nothing lost or recorded twice, and a
killed driver resumed."""
import importlib.util, json, os, shutil, signal, socket, subprocess, sys, time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec('ray') is None,
                                reason='the Ray backend needs the ray extra: pip install -e ".[ray]"')

SEARCH = ['--pop-size', 4, '--n-gen', 3, '--seed', 0, '--n-calib', 64, '--n-val', 128, '--strategy', 'nsga2',
          '--device', 'cpu']
ONE_THREAD = dict(OMP_NUM_THREADS='1')  # the in-process reference computes as a one-thread worker does


def lines(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


def same(records: list[dict]) -> list:
    "What must agree between two runs: order, candidates, objectives and constraints (not timings)."
    return [(r['key'], r['F'], r['G'], r['phase']) for r in records]


def exe(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).parent / name)


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    "A local Ray cluster of 2 CPUs in processes of its own; its address."
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    # Recent Ray versions authenticate clients with a token (~/.ray/auth_token); every process here uses it.
    old = os.environ.get('RAY_AUTH_MODE'); os.environ['RAY_AUTH_MODE'] = 'token'
    env = dict(os.environ)
    r = subprocess.run([exe('ray'), 'start', '--head', '--num-cpus', '2', '--port', str(port), '--include-dashboard',
                        'false', '--disable-usage-stats'], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    yield f'127.0.0.1:{port}'
    subprocess.run([exe('ray'), 'stop', '--force'], capture_output=True, timeout=120)
    if old is None: os.environ.pop('RAY_AUTH_MODE')
    else: os.environ['RAY_AUTH_MODE'] = old


@pytest.fixture(scope='module')
def reference(kb, cli, tmp_path_factory):
    "The same search in one process."
    run = tmp_path_factory.mktemp('ray') / 'ref'
    r = cli('modulenas-search', kb, '--run-dir', run, *SEARCH, env=ONE_THREAD, timeout=900)
    assert r.returncode == 0, r.stderr
    return run


def start(kb, run, *extra):
    return subprocess.Popen([exe('modulenas-search'), str(kb), '--run-dir', str(run), *map(str, SEARCH), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(run: Path, n: int, proc, timeout=600):
    deadline = time.time() + timeout
    while len(lines(run / 'evaluations.jsonl')) < n and time.time() < deadline and proc.poll() is None: time.sleep(0.1)
    assert proc.poll() is None, 'the search finished before it could be interrupted'


def worker_pids() -> list[int]:
    "Processes of Ray actors that hold a modulenas evaluator."
    out = subprocess.run(['ps', '-eo', 'pid=,args='], capture_output=True, text=True).stdout
    return [int(l.split()[0]) for l in out.splitlines() if 'ray::_Worker' in l]


def test_ray_workers_give_the_in_process_archive_and_survive_a_killed_worker(kb, cluster, reference, tmp_path):
    run = tmp_path / 'run'
    proc = start(kb, run, '--ray-address', cluster)
    wait_for(run, 3, proc)
    pids = worker_pids()
    assert len(pids) == 2, pids
    os.kill(pids[0], signal.SIGKILL)  # a worker dies in the middle of a batch
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err
    got, want = lines(run / 'evaluations.jsonl'), lines(reference / 'evaluations.jsonl')
    assert len({r['key'] for r in got}) == len(got)  # nothing recorded twice
    assert same(got) == same(want)  # nothing lost, same order, same scores
    a, b = (json.loads((d / 'pareto.json').read_text()) for d in (run, reference))
    assert a['fronts'] == b['fronts'] and a['hv'] == b['hv']
    data = [json.loads((d / 'config.json').read_text())['data'] for d in (run, reference)]
    assert data[0] == data[1] and len(data[0]) == 16  # the workers' images are the in-process run's, by content


def test_killed_driver_resumes_on_the_cluster(kb, cluster, reference, cli, tmp_path):
    run = tmp_path / 'run'
    proc = start(kb, run, '--ray-address', cluster)
    wait_for(run, 5, proc)
    os.kill(proc.pid, signal.SIGKILL); proc.wait()
    before = lines(run / 'evaluations.jsonl')
    r = cli('modulenas-resume', run, '--ray-address', cluster, timeout=900)
    assert r.returncode == 0, r.stderr
    got, want = lines(run / 'evaluations.jsonl'), lines(reference / 'evaluations.jsonl')
    assert got[:len(before)] == before and same(got) == same(want)
    a, b = (json.loads((d / 'pareto.json').read_text()) for d in (run, reference))
    assert a['fronts'] == b['fronts'] and a['hv'] == b['hv']


def test_workers_start_their_own_instance_beside_a_running_cluster(cluster, reference):
    "--workers N never joins a cluster that `ray start` left on the machine: it starts a private one of N CPUs."
    code = ("import json, sys, ray; from modulenas.distributed import RayEvaluator; from modulenas.spec import build_from_setup\n"
            "setup = json.load(open(sys.argv[1]))['setup']; ev = RayEvaluator(setup, workers=1)\n"
            "train = [ev.train_fingerprint, build_from_setup(setup)[1].train_fingerprint]\n"
            "print(json.dumps([ray.cluster_resources().get('CPU'), ev.n_workers, ev.data_fingerprint, train])); ev.close()")
    r = subprocess.run([sys.executable, '-c', code, str(reference / 'config.json')], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    cpus, n, data, (train_ray, train_here) = json.loads(r.stdout.strip().splitlines()[-1])
    assert (cpus, n) == (1, 1)  # not the 2 CPUs of the running cluster
    assert data == json.loads((reference / 'config.json').read_text())['data']
    assert train_ray == train_here and len(train_ray) == 16  # the training images a search that adapts is bound to


def test_ray_flags_without_ray_say_how_to_install(kb, cli, tmp_path):
    "With ray hidden, --workers fails with one line that says how to install it."
    shadow = tmp_path / 'shadow'; (shadow / 'ray').mkdir(parents=True)
    (shadow / 'ray' / '__init__.py').write_text('raise ImportError("No module named ray")\n')
    r = cli('modulenas-search', kb, '--run-dir', tmp_path / 'run', '--workers', 2, *SEARCH,
            env=dict(PYTHONPATH=str(shadow)))
    assert r.returncode == 2 and 'pip install "modulenas[ray]"' in r.stderr and 'Traceback' not in r.stderr
