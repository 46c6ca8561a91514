"The search, resume, fine-tune, export and run console scripts, run as a user runs them, at a tiny budget."
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from modulenas.export import load_network, onnx_available
from modulenas.pipeline import read_hits

TINY = ['--n-calib', 64, '--n-val', 128]
SEARCH = ['--pop-size', 4, '--n-gen', 3, '--seed', 0, *TINY]


@pytest.fixture(scope='module')
def finished(kb, cli, tmp_path_factory):
    "A search run that went through without interruption."
    run = tmp_path_factory.mktemp('pipeline') / 'run'
    r = cli('modulenas-search', kb, '--run-dir', run, *SEARCH)
    assert r.returncode == 0, r.stderr
    assert 'hypervolume nsga2' in r.stdout and 'random' in r.stdout
    return run


def lines(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


def test_search_writes_run_folder(finished):
    for f in ('config.json', 'evaluations.jsonl', 'checkpoint.json', 'pareto.json', 'front.png', 'hypervolume.png'):
        assert (finished / f).exists(), f
    config = json.loads((finished / 'config.json').read_text())
    assert config['versions']['torch'] and config['versions']['pymoo'] and config['setup']['data']['n_val'] == 128
    pareto = json.loads((finished / 'pareto.json').read_text())
    assert pareto['strategies'] == ['nsga2', 'random'] and pareto['fronts']['nsga2'] and pareto['fronts']['random']
    assert [n for n, _ in pareto['hv']['nsga2']][-1] == [n for n, _ in pareto['hv']['random']][-1] == 12  # equal budget
    assert set(pareto['hv_new']) == {'nsga2', 'random'} and 0 <= pareto['hv_new']['nsga2'] <= pareto['hv']['nsga2'][-1][1]
    evals = lines(finished / 'evaluations.jsonl')
    assert len({e['key'] for e in evals}) == len(evals) == pareto['n_evaluations']  # nothing evaluated twice


def test_sigkill_then_resume_reaches_the_same_front(kb, finished, tmp_path):
    "A search killed with SIGKILL mid-run, resumed, ends with the uninterrupted run's front and evaluations."
    run = tmp_path / 'run'
    exe = str(Path(sys.executable).parent / 'modulenas-search')
    proc = subprocess.Popen([exe, str(kb), '--run-dir', str(run), *map(str, SEARCH)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while len(lines(run / 'evaluations.jsonl')) < 7 and time.time() < deadline and proc.poll() is None: time.sleep(0.2)
    assert proc.poll() is None, 'the search finished before it could be killed'
    os.kill(proc.pid, signal.SIGKILL); proc.wait()
    before = lines(run / 'evaluations.jsonl')
    assert not (run / 'pareto.json').exists()

    exe = str(Path(sys.executable).parent / 'modulenas-resume')
    r = subprocess.run([exe, str(run)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    after, want = lines(run / 'evaluations.jsonl'), lines(finished / 'evaluations.jsonl')
    assert after[:len(before)] == before  # what had finished is kept, not run again
    assert len({e['key'] for e in after}) == len(after)
    assert {e['key']: e['F'] for e in after} == {e['key']: e['F'] for e in want}
    got, ref = (json.loads((d / 'pareto.json').read_text()) for d in (run, finished))
    assert {s: [f['key'] for f in v] for s, v in got['fronts'].items()} == {s: [f['key'] for f in v] for s, v in ref['fronts'].items()}
    assert got['hv'] == ref['hv'] and got['hv_new'] == ref['hv_new']


def test_names_from_files_never_leave_the_run_folder(finished, cli, tmp_path):
    "A run archive edited to name its candidates '../../escape': fine-tuning refuses before writing anything."
    import shutil
    run = tmp_path / 'run'
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
    recs = lines(run / 'evaluations.jsonl')
    for rec in recs: rec['candidate']['name'] = '../../escape'
    (run / 'evaluations.jsonl').write_text(''.join(json.dumps(rec) + '\n' for rec in recs))
    r = cli('modulenas-finetune', run, '--steps', 1, '--top-k', 1, '--no-zoo')
    assert r.returncode == 2 and "network name '../../escape' cannot name a folder" in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'escape').exists() and not (run / 'finetune').exists()
    r = cli('modulenas-export', run, '--name', '../../escape', '--out', tmp_path / 'x')
    assert r.returncode == 2 and "--name '../../escape' cannot name a folder" in r.stderr


def test_run_folder_is_bound_to_its_knowledge_base(finished, cli, tmp_path):
    "The same networks under the same names, with other weights: continuing the run with them is refused."
    import shutil
    from modulenas import zoo
    from modulenas.kb import KnowledgeBase
    with KnowledgeBase(tmp_path / 'other') as other:
        for name in ('resnet20', 'resnet32'):
            torch.manual_seed(1); other.add_model(name, zoo.create_model(name, pretrained=False), zoo_name=name)
    run = tmp_path / 'run'
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
    before = (run / 'evaluations.jsonl').read_bytes()
    r = cli('modulenas-search', tmp_path / 'other', '--run-dir', run, *SEARCH)
    assert r.returncode == 2 and 'was made with the knowledge base at' in r.stderr and 'Traceback' not in r.stderr
    assert (run / 'evaluations.jsonl').read_bytes() == before



def test_run_folder_is_bound_to_its_data(kb, finished, cli, tmp_path):
    "The same knowledge base and search settings, scored on other validation images: continuing the run is refused."
    import shutil
    run = tmp_path / 'run'
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
    before = (run / 'evaluations.jsonl').read_bytes()
    assert len(json.loads((run / 'config.json').read_text())['data']) == 16
    other = [*SEARCH[:-1], 100]  # --n-val 100 instead of 128
    r = cli('modulenas-search', kb, '--run-dir', run, *other)
    assert r.returncode == 2 and 'was scored on other images or labels' in r.stderr and '"n_val": 128' in r.stderr
    assert 'Traceback' not in r.stderr and (run / 'evaluations.jsonl').read_bytes() == before




def test_damaged_checkpoint_is_named(finished, cli, tmp_path):
    "A checkpoint that is not JSON any more: resuming says which file, with exit status 2 and no traceback."
    import shutil
    run = tmp_path / 'run'
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
    (run / 'checkpoint.json').write_text('{"format": 2, "strat')
    r = cli('modulenas-resume', run)
    assert r.returncode == 2 and f"{run / 'checkpoint.json'} is damaged" in r.stderr and 'Traceback' not in r.stderr

def test_search_and_finetune_on_a_new_task(kb, cli, tmp_path):
    "An image folder of classes no parent knows: held-out training images validate, every classifier is fitted for its classes."
    from modulenas.data import make_tiny_image_folder
    folder = make_tiny_image_folder(tmp_path / 'pets', n_train=40, n_test=5, size=32)  # cat (red) and dog (blue)
    run = tmp_path / 'run'
    r = cli('modulenas-search', kb, '--run-dir', run, '--data', folder, '--pop-size', 4, '--n-gen', 1, '--n-calib', 24, '--n-val', 24)
    assert r.returncode == 0, r.stderr
    setup = json.loads((run / 'config.json').read_text())['setup']
    assert setup['data']['protocol'] == 'train-holdout' and setup['data']['name'] == 'pets' and setup['eval']['new_head']
    evals = lines(run / 'evaluations.jsonl')
    assert evals and all(e['result']['error'] is None and e['result']['head_refit'] for e in evals)
    assert min(e['result']['score'] for e in evals) > 0.9  # red against blue: every fitted two-class head separates them
    r = cli('modulenas-finetune', run, '--steps', 2, '--top-k', 1, '--no-onnx', timeout=900)
    assert r.returncode == 0, r.stderr
    rows = json.loads((run / 'finetune' / 'results.json').read_text())['rows']
    assert {'resnet20', 'resnet32'} <= {row['name'] for row in rows}  # the parents, fine-tuned on the new task too
    for row in rows:
        net = load_network(row['folder'])
        assert net.classes == ('cat', 'dog') and net.num_classes == 2 and row['test_after'] > 0.9, row


def test_online_adaptation_on_a_new_task(kb, cli, tmp_path):
    "--adapt-every: the modules the best candidates use most are fine-tuned on the task, stored as versions, and used."
    from modulenas.data import make_tiny_image_folder
    from modulenas.kb import KnowledgeBase
    folder = make_tiny_image_folder(tmp_path / 'pets', n_train=40, n_test=5, size=32)
    mine, run = tmp_path / 'kb', tmp_path / 'run'
    shutil.copytree(kb, mine)  # versions are added to the knowledge base: not to the one other tests share
    r = cli('modulenas-search', mine, '--run-dir', run, '--data', folder, '--pop-size', 4, '--n-gen', 2, '--n-calib', 24,
            '--n-val', 24, '--strategy', 'nsga2', '--adapt-every', 1, '--adapt-steps', 3)
    assert r.returncode == 0, r.stderr
    prog = json.loads((run / 'checkpoint.json').read_text())['strategies']['nsga2']
    assert {a['after'] for a in prog['adaptations']} == {prog['hv'][0][0]} and len(prog['versions']) == 2, prog
    with KnowledgeBase(mine, create=False) as k:
        for orig, version in prog['versions']:
            assert k.history(version) == [version, orig], k.history(version)
            assert k.version_info(k.get(version).parent)['steps'] == 3
        assert k.models() == KnowledgeBase(kb, create=False).models() and k.verify() == []
    ids = lambda e: [e['candidate']['stem'], *e['candidate']['body']]
    assert any('@' in m for e in lines(run / 'evaluations.jsonl') for m in ids(e)), 'no candidate used an adapted module'


def test_finetune_with_a_teacher(finished, cli, tmp_path):
    "Every network learns from the same ensemble of the parents; the ensemble's own test accuracy is reported beside it."
    import shutil
    run = tmp_path / 'run'
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
    r = cli('modulenas-finetune', run, '--teacher', 'parents')
    assert r.returncode == 2 and '--teacher must be one of none, best, ensemble' in r.stderr and not (run / 'finetune').exists()
    r = cli('modulenas-finetune', run, '--steps', 2, '--top-k', 1, '--no-zoo', '--no-onnx', '--teacher', 'ensemble', timeout=900)
    assert r.returncode == 0, r.stderr
    kd = json.loads((run / 'finetune' / 'results.json').read_text())['settings']['teacher']
    assert kd['kind'] == 'ensemble' and set(kd['members']) == {'resnet20', 'resnet32'} and 0.5 < kd['test'] <= 1, kd
    assert f"teacher: ensemble of {', '.join(kd['members'])}, test accuracy {kd['test']:.4f}" in r.stdout


def test_finetune_with_a_final_pick(finished, cli, tmp_path):
    "Winners picked by short fine-tuning among the best by score; the pick's rounds and steps are recorded, and kept."
    run = tmp_path / 'run'
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
    r = cli('modulenas-finetune', run, '--pick-from', -1)
    assert r.returncode == 2 and '--pick-from' in r.stderr and not (run / 'finetune').exists(), r.stderr
    r = cli('modulenas-finetune', run, '--steps', 16, '--top-k', 1, '--pick-from', 4, '--no-zoo', '--no-onnx', timeout=900)
    assert r.returncode == 0, r.stderr
    res = json.loads((run / 'finetune' / 'results.json').read_text())
    pick = res['settings']['pick']
    assert pick['first_steps'] == 2 and pick['pool'] >= 2 and len(pick['picked']) == 1
    assert [len(x) for x in pick['rounds']][0] == pick['pool'] and pick['steps'] == sum(x[0]['steps'] * len(x) for x in pick['rounds'])
    assert [row['name'] for row in res['rows']] == pick['names'] and 'picked ' in r.stdout and f"{pick['steps']:,} steps" in r.stdout
    again = cli('modulenas-finetune', run, '--steps', 16, '--top-k', 1, '--pick-from', 4, '--no-zoo', '--no-onnx')
    assert again.returncode == 0 and json.loads((run / 'finetune' / 'results.json').read_text()) == res  # nothing trained again


def test_finetune_and_export(finished, cli, tmp_path):
    r = cli('modulenas-finetune', finished, '--steps', 2, '--top-k', 1, timeout=900)
    assert r.returncode == 0, r.stderr
    res = json.loads((finished / 'finetune' / 'results.json').read_text())
    names = {row['name']: row for row in res['rows']}
    assert {'resnet20', 'resnet32'} <= set(names) and names['resnet20']['zoo']
    correct = read_hits(finished / 'finetune')  # per test image, for paired comparisons
    for row in res['rows']:
        assert 0.1 < row['test_after'] <= 1 and row['steps'] == 2
        assert correct[row['key']].dtype == bool and abs(correct[row['key']].mean() - row['test_after']) < 1e-9
        if onnx_available(): assert row['onnx_max_diff'] < 1e-3
    assert (finished / 'finetune' / 'finetune.png').exists() and 'test after' in r.stdout
    again = cli('modulenas-finetune', finished, '--steps', 2, '--top-k', 1)  # all done: nothing is trained again
    assert again.returncode == 0 and json.loads((finished / 'finetune' / 'results.json').read_text()) == res

    # an exported folder, re-exported elsewhere: the same network without the knowledge base
    out = tmp_path / 'exported'
    args = [] if onnx_available() else ['--no-onnx']
    r = cli('modulenas-export', finished / 'finetune' / 'resnet20', '--out', out, *args)
    assert r.returncode == 0, r.stderr
    a, b = load_network(finished / 'finetune' / 'resnet20'), load_network(out)
    x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    assert torch.equal(a.predict(x), b.predict(x))
    if onnx_available(): assert (out / 'model.onnx').exists() and 'max abs difference' in r.stdout

    # a candidate of the run by key prefix: assembled and stitched, not fine-tuned
    key = lines(finished / 'evaluations.jsonl')[-1]['key']
    r = cli('modulenas-export', finished, '--name', key[:12], '--out', tmp_path / 'cand', '--no-onnx')
    assert r.returncode == 0, r.stderr
    assert load_network(tmp_path / 'cand').candidate.key == key


def test_run_end_to_end(zoo_dir, kb, cli, tmp_path):
    "The README's main command at a tiny budget: knowledge base, search, fine-tuning, exports, report."
    out = tmp_path / 'all'
    r = cli('modulenas-run', '--out', out, '--models', 'resnet20', '--pop-size', 4, '--n-gen', 2, *TINY,
            '--finetune-steps', 2, '--top-k', 1, timeout=1200)
    assert r.returncode == 0, r.stderr
    report = (out / 'report.md').read_text()
    assert 'hypervolume (same budget' in report and 'nsga2' in report and '| resnet20 (zoo) |' in report and 'new networks alone' in report
    rows = json.loads((out / 'report.json').read_text())['finetune']
    for row in rows: load_network(row['folder'])
    # the same command again continues: everything is already there
    r2 = cli('modulenas-run', '--out', out, '--models', 'resnet20', '--pop-size', 4, '--n-gen', 2, *TINY,
             '--finetune-steps', 2, '--top-k', 1)
    assert r2.returncode == 0, r2.stderr
    assert json.loads((out / 'report.json').read_text())['finetune'] == rows


@pytest.mark.parametrize('args, message', [  # the whole table runs in-process in tests/test_bad_inputs.py
    (['modulenas-search', '/no/such/kb'], 'no knowledge base at'),
    (['modulenas-export', '/no/such/thing'], 'give --out'),
    (['modulenas-run', '--objectives', 'error'], '2 to 4'),
])
def test_bad_arguments_exit_2(cli, args, message):
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip().splitlines()[-1].startswith('error:') and message in r.stderr


@pytest.mark.parametrize('args, message', [  # more in tests/test_bad_inputs.py
    (['--device', 'cuda:99'], 'cuda:99'),
    (['--predict-adapters', 0.5, '--workers', 2], 'cannot be combined with --workers'),
    (['--strategy', 'surrogate', '--accuracy-predictors', 'gp,svm'], '--surrogate-predictors: unknown svm'),
    (['--adapt-every', -1], '--adapt-every must be a whole number'),
])
def test_bad_search_settings_exit_2(kb, cli, tmp_path, args, message):
    r = cli('modulenas-search', kb, '--run-dir', tmp_path / 'run', *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip().splitlines()[-1].startswith('error:') and message in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'run').exists()  # refused before anything was written


def test_output_folders_that_are_files_exit_2(kb, cli, tmp_path):
    afile = tmp_path / 'afile'
    afile.write_text('not a folder')
    for args in (['modulenas-search', kb, '--run-dir', afile], ['modulenas-search', kb, '--run-dir', afile / 'run'],
                 ['modulenas-run', '--out', afile], ['modulenas-export', tmp_path, '--out', afile / 'net']):
        r = cli(*args)
        assert r.returncode == 2 and 'is a file, not a folder' in r.stderr and 'Traceback' not in r.stderr, (args, r.stderr)
    assert afile.read_text() == 'not a folder'


def test_a_run_folder_in_use_is_refused(finished, cli, tmp_path):
    "While one process writes a run folder, resume and fine-tune there stop at once with one line naming that process."
    from modulenas.core import folder_lock
    run = tmp_path / 'run'
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
    before = (run / 'evaluations.jsonl').read_bytes()
    with folder_lock(run, 'run folder'):
        for cmd in (['modulenas-resume', run], ['modulenas-finetune', run, '--steps', 1, '--top-k', 1]):
            r = cli(*cmd)
            assert r.returncode == 2 and f'run folder {run} is in use by process {os.getpid()}' in r.stderr, r.stderr
            assert 'Traceback' not in r.stderr
    assert (run / 'evaluations.jsonl').read_bytes() == before and not (run / 'finetune').exists()
    assert cli('modulenas-resume', run).returncode == 0  # free again


def test_links_planted_in_a_run_folder_are_not_followed(finished, cli, tmp_path):
    "A run folder whose finetune folder, or whose archive, is a link elsewhere: one line, nothing written there."
    run, elsewhere = tmp_path / 'run', tmp_path / 'elsewhere'
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
    elsewhere.mkdir()
    (run / 'finetune').symlink_to(elsewhere, target_is_directory=True)
    r = cli('modulenas-finetune', run, '--steps', 1, '--top-k', 1)
    assert r.returncode == 2 and 'finetune is a symbolic link' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not list(elsewhere.iterdir())
    (run / 'finetune').unlink()
    (elsewhere / 'log.jsonl').write_bytes((run / 'evaluations.jsonl').read_bytes())
    (run / 'evaluations.jsonl').unlink(); (run / 'evaluations.jsonl').symlink_to(elsewhere / 'log.jsonl')
    for cmd in (['modulenas-resume', run], ['modulenas-finetune', run, '--steps', 1]):
        r = cli(*cmd)
        assert r.returncode == 2 and 'evaluations.jsonl is a symbolic link' in r.stderr and 'Traceback' not in r.stderr, r.stderr


def test_json_nested_past_any_parser_is_named(finished, cli, tmp_path):
    "A run file nested 100,000 deep (what no JSON parser follows): one line naming it, for every command that reads it."
    deep = '[' * 100_000 + ']' * 100_000
    for name, cmds in {'pareto.json': [['modulenas-finetune', '--steps', 1]], 'checkpoint.json': [['modulenas-resume']],
                       'config.json': [['modulenas-resume'], ['modulenas-finetune', '--steps', 1]]}.items():
        for cmd in cmds:
            run = tmp_path / f"{name}-{cmd[0]}"
            shutil.copytree(finished, run, ignore=shutil.ignore_patterns('finetune'))
            (run / name).write_text(deep)
            r = cli(cmd[0], run, *cmd[1:])
            assert r.returncode == 2 and f"{run / name} is damaged" in r.stderr and 'Traceback' not in r.stderr, (name, cmd, r.stderr[-500:])
