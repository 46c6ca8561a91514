"""Every console script answers a bad invocation with exit status 2 and one `error: ...` line that names the
offending flag or file, before doing any work and without writing anything; never a traceback.

The installed scripts run in this process (as `__main__`, with `sys.argv` set as a shell would), so the whole
table costs seconds; tests/test_pipeline.py runs a few of the same through real processes."""
import importlib.metadata as md
import json, runpy, shutil, sys
from pathlib import Path

import pytest

SCRIPTS = sorted(ep.name for ep in md.entry_points(group='console_scripts') if ep.name.startswith('modulenas-'))


@pytest.fixture(scope='module')
def places(tmp_path_factory):
    "Damaged and misleading inputs: a file where a folder belongs, a run whose config is not JSON, and so on."
    d = tmp_path_factory.mktemp('bad')
    (d / 'afile').write_text('not a folder')
    (d / 'broken.py').write_text('import math\n\nSIZE = math.sqrt(undefined_width)\n')  # a plug-in that raises
    from modulenas.data import make_tiny_image_folder
    make_tiny_image_folder(d / 'pets')
    for name, files in {'damaged_run': {'config.json': '{not json', 'evaluations.jsonl': ''},
                        'unfinished_run': {'config.json': json.dumps(dict(search={}, space={})), 'evaluations.jsonl': ''},
                        'damaged_net': {'network.json': '{"format": '},
                        'empty': {}, 'photos': {'cat.jpg': 'not ours', 'notes.txt': 'mine'}}.items():
        (d / name).mkdir()
        for f, text in files.items(): (d / name / f).write_text(text)
    (d / 'exit0.py').write_text('import sys\nsys.exit(0)\n')  # plug-ins that end the process or fake an interrupt
    (d / 'interrupt.py').write_text('raise KeyboardInterrupt\n')
    (d / 'zero_kb').mkdir(); (d / 'zero_kb' / 'index.sqlite').write_bytes(b'')  # an empty file is no index
    for run, name in (('folder_run', 'config.json'), ('folder_log_run', 'evaluations.jsonl'), ('folder_net', 'network.json')):
        (d / run / name).mkdir(parents=True)  # a folder where a run's or a network's file belongs
    (d / 'dangling').symlink_to(d / 'nowhere')
    (d / 'loop1').symlink_to(d / 'loop2'); (d / 'loop2').symlink_to(d / 'loop1')
    return d


def cases(kb: str, d: Path) -> list[tuple[list, str]]:
    "(command line, what the message must say) for every bad invocation of the table."
    s = ['modulenas-search', kb, '--run-dir', d / 'new_run']
    r = ['modulenas-run', '--out', d / 'new_out']
    b = ['modulenas-build-kb', '--out', d / 'new_kb']
    return [
        (s + ['--pop-size', 0], '--pop-size must be a whole number of at least 1'),
        (s + ['--n-gen', 0], '--n-gen must be'),
        (s + ['--n-calib', 0], '--n-calib must be'),
        (s + ['--n-val', -5], '--n-val must be'),
        (s + ['--refine-steps', -1], '--refine-steps must be a whole number of at least 0'),
        (s + ['--downstream-steps', -1], '--downstream-steps must be a whole number of at least 0'),
        (s + ['--seed', -1], '--seed must be'),
        (s + ['--max-params', -5], '--max-params must be a positive number'),
        (s + ['--max-flops', 0], '--max-flops must be'),
        (s + ['--max-latency-ms', 0], '--max-latency-ms must be'),
        (s + ['--objectives', 'error,error'], '--objectives: choose 2 to 4 distinct objectives'),
        (s + ['--objectives', 'error,speed'], "--objectives: unknown objective(s) ['speed']"),
        (s + ['--objectives', 'error'], '--objectives'),
        (s + ['--parents', 'resnet20,nosuch'], '--parents: no network nosuch'),
        (s + ['--protocol', 'magic'], '--protocol must be auto or one of'),
        (s + ['--data', d / 'missing'], '--data ' + str(d / 'missing') + ': not an image folder'),
        (s + ['--data', d / 'empty'], 'not an image folder (train/<class>/*, test/<class>/*) nor a tar archive of one'),
        (s + ['--data', d / 'pets', '--protocol', 'test-half'], '--protocol test-half takes validation images from the test split of pets'),
        (s + ['--dataset', 'nosuch'], "unknown dataset 'nosuch'"),
        (s + ['--workers', -1], '--workers must be'),
        (s + ['--pop-size', 'x'], "argument --pop-size: invalid int value: 'x'"),
        (s + ['--pop-size', 10**9], '--pop-size must be at most 100,000'),
        (s + ['--pop-size', 50_000, '--n-gen', 1_000], '--pop-size x --n-gen = 50,000,000 candidates per strategy'),
        (s + ['--strategy', ''], '--strategy: name at least one strategy'),
        (s + ['--strategy', 'nsga2,nsga2'], '--strategy: nsga2 named more than once'),
        (s + ['--strategy', 'surrogate', '--accuracy-predictors', 'rbf,rbf'], '--surrogate-predictors: rbf named more than once'),
        (['modulenas-search', kb, '--run-dir', ''], '--run-dir is empty'),
        (['modulenas-run', '--out', ''], '--out is empty'),
        (r + ['--strategy', 'random,random'], '--strategy: random named more than once'),
        (s + ['--strategy', 'evolution'], "unknown strategy 'evolution'"),
        (s + ['--plugins', d / 'missing.py'], 'missing.py not found'),
        (s + ['--strategy', 'growth', '--elite', 0], '--growth-elite must be'),
        (s + ['--growth-elite', 4], '--growth-elite is an option of the growth strategy, which --strategy does not name (nsga2, random)'),
        (s + ['--strategy', 'surrogate', '--n-initial', -3], '--surrogate-n-initial must be'),
        (s + ['--strategy', 'surrogate', '--surrogate-predictors', 'gp,svm'], '--surrogate-predictors: unknown svm'),
        (s + ['--predict-adapters', 2], '--predict-adapters'),
        (s + ['--predict-adapters', 0.5, '--predictor', 'magic'], '--predictor must be one of'),
        (s + ['--device', 'gpu'], "unknown device 'gpu'"),
        (s + ['--seed', 2**70], '--seed must be a whole number from 0 to 4294967295'),
        (s + ['--parents', ''], '--parents: name at least one network'),
        (s + ['--strategy', 'surrogate', '--accuracy-predictors', ','], '--surrogate-predictors: name at least one of'),
        (s + ['--n-val', 10**8], '--n-val = 100000000: the validation half of the test set holds 5000 images'),
        (s + ['--n-calib', 60000], '--n-calib = 60000 leaves no training images out of 50000'),
        (s + ['--plugins', d / 'broken.py'], f"plugin {d / 'broken.py'} failed to import: NameError: name 'undefined_width' is not defined"),
        (['modulenas-search', kb, '--run-dir', d / 'afile'], '--run-dir'),
        (['modulenas-search', kb, '--run-dir', d / 'afile' / 'run'], 'is a file, not a folder'),
        (['modulenas-search', kb, '--run-dir', '/proc/modulenas-run'], 'cannot write in /proc'),
        (['modulenas-search', d / 'empty'], 'no knowledge base at'),
        (['modulenas-resume', d / 'damaged_run'], 'damaged_run/config.json is damaged'),
        (['modulenas-resume', d / 'empty'], 'not a search run'),
        (['modulenas-finetune', d / 'empty'], 'not a search run folder'),
        (['modulenas-finetune', d / 'unfinished_run'], 'has not finished (no pareto.json)'),
        (['modulenas-finetune', d / 'unfinished_run', '--steps', 0], '--steps must be'),
        (['modulenas-finetune', d / 'unfinished_run', '--lr', -1], '--lr must be a positive number'),
        (['modulenas-finetune', d / 'unfinished_run', '--top-k', 0], '--top-k must be'),
        (['modulenas-finetune', d / 'unfinished_run', '--batch-size', 0], '--batch-size must be'),
        (['modulenas-export', d / 'damaged_net', '--out', d / 'new_export'], 'damaged_net/network.json is not JSON'),
        (['modulenas-export', d / 'damaged_net'], 'give --out'),
        (['modulenas-export', d / 'empty', '--out', d / 'new_export'], 'neither an exported network'),
        (['modulenas-export', d / 'damaged_net', '--out', d / 'afile'], '--out'),
        (['modulenas-export', d / 'damaged_net', '--out', d / 'new_export', '--device', 'gpu'], "unknown device 'gpu'"),
        (['modulenas-resume', d / 'damaged_run', '--workers', -2], '--workers must be a whole number of at least 0'),
        (r + ['--pop-size', 0], '--pop-size must be'),
        (r + ['--n-val', 0], '--n-val must be'),
        (r + ['--finetune-steps', -1], '--finetune-steps must be'),
        (r + ['--top-k', 0], '--top-k must be'),
        (r + ['--max-params', 0], '--max-params must be'),
        (r + ['--budget', 'huge'], '--budget must be one of'),
        (r + ['--objectives', 'error'], '--objectives'),
        (r + ['--protocol', 'magic'], '--protocol must be auto or one of'),
        (r + ['--data', d / 'missing'], '--data ' + str(d / 'missing') + ': no such image folder or archive'),
        (r + ['--device', 'gpu'], "unknown device 'gpu'"),
        (r + ['--seed', -1], '--seed must be a whole number from 0'),
        (r + ['--dataset', 'nosuch'], "--dataset: unknown dataset 'nosuch'; use one of cifar10, cifar100, cifar10-jpg, or --data PATH"),
        (r + ['--strategy', 'growth', '--elite', 0], '--growth-elite must be'),
        (r + ['--strategy', 'surrogate', '--accuracy-predictors', 'svm'], '--surrogate-predictors: unknown svm'),
        (r + ['--surrogate-n-initial', 3], '--surrogate-n-initial is an option of the surrogate strategy'),
        (r + ['--models', 'nosuch'], "no zoo model matches 'nosuch'"),
        (r + ['--models', 'resnet20', '--n-val', 10**8, '--offline'], '--n-val = 100000000: the validation half'),  # after the KB: removed
        (['modulenas-run', '--out', '/proc/modulenas-run'], 'cannot write in /proc'),
        (b + ['--models', 'nosuch'], "no zoo model matches 'nosuch'"),
        (b + ['--granularity', 'magic'], '--granularity must be one of'),
        (b + ['--plugins', d / 'missing.py'], 'missing.py not found'),
        (b + ['--plugins', d / 'afile'], f"plugin {d / 'afile'} failed to import: SyntaxError"),
        (['modulenas-build-kb', '--out', d / 'afile', '--models', 'resnet20'], '--out'),
        (['modulenas-build-kb', '--out', '/proc/modulenas-kb', '--models', 'resnet20'], 'cannot write in /proc'),
        (['modulenas-search', kb, '--run-dir', d / 'photos'], '--run-dir ' + str(d / 'photos') + ': the folder holds other files (cat.jpg, notes.txt) and no search run'),
        (['modulenas-run', '--out', d / 'photos'], 'and no modulenas-run output'),
        (['modulenas-export', d / 'damaged_net', '--out', d / 'photos'], '--out ' + str(d / 'photos') + ': the folder holds other files'),
        (s + ['--plugins', d / 'exit0.py'], f"plugin {d / 'exit0.py'} failed to import: SystemExit: 0"),
        (r + ['--plugins', d / 'interrupt.py'], f"plugin {d / 'interrupt.py'} failed to import: KeyboardInterrupt"),
        (['modulenas-search', d / 'zero_kb'], 'index.sqlite is an empty file (0 bytes), not a knowledge-base index'),
        (['modulenas-build-kb', '--out', d / 'zero_kb', '--models', 'resnet20'], 'is an empty file (0 bytes)'),
        (['modulenas-search', kb, '--run-dir', d / 'folder_run'], "folder_run/config.json is a folder, where the run's config.json belongs"),
        (['modulenas-search', kb, '--run-dir', d / 'folder_log_run'], "evaluations.jsonl is a folder, where the run's evaluations.jsonl belongs"),
        (['modulenas-resume', d / 'folder_run'], "is a folder, where the run's config.json belongs"),
        (['modulenas-finetune', d / 'folder_run'], "is a folder, where the run's config.json belongs"),
        (['modulenas-export', d / 'folder_net', '--out', d / 'new_export'], 'network.json is not a regular file'),
        (['modulenas-build-kb', '--out', d / 'dangling', '--models', 'resnet20'], f"the symbolic link {d / 'dangling'} points to {d / 'nowhere'}, which does not exist"),
        (['modulenas-export', d / 'damaged_net', '--out', d / 'loop1' / 'net'], 'is part of a loop of links'),
        (r[:2] + [d / 'dangling' / 'out'], f"the symbolic link {d / 'dangling'} points to"),
        (s[:3] + [d / ('a' * 300)], 'longer than the file system allows'),
        (['modulenas-build-kb', '--out', d / ('b' * 300), '--models', 'resnet20'], 'longer than the file system allows'),
        (['modulenas-build-kb', '--out', d / 'photos', '--models', 'resnet20'], '--out ' + str(d / 'photos') + ' is not empty and holds no index.sqlite'),
    ]


def run_in_process(argv: list, monkeypatch, capsys) -> tuple:
    "Exit status and stderr of the console script `argv[0]` run with the arguments `argv[1:]`."
    exe = shutil.which(argv[0]) or str(Path(sys.executable).parent / argv[0])
    if not Path(exe).exists(): pytest.fail(f'console script {argv[0]} is not installed (pip install -e .)')
    monkeypatch.setattr(sys, 'argv', [exe, *map(str, argv[1:])])
    with pytest.raises(SystemExit) as e: runpy.run_path(exe, run_name='__main__')
    return e.value.code, capsys.readouterr().err


def test_table_of_bad_invocations(kb, places, monkeypatch, capsys):
    table = cases(str(kb), places)
    assert len(table) >= 40 and {a[0] for a, _ in table} == set(SCRIPTS)  # every console script is in it
    before = sorted(p.name for p in places.iterdir())
    wrong = []
    for argv, message in table:
        code, err = run_in_process(argv, monkeypatch, capsys)
        last = (err.strip().splitlines() or [''])[-1]
        if code != 2 or message not in err or 'Traceback' in err or 'error:' not in last:
            wrong.append((argv[0], [str(a) for a in argv[1:]], code, err[-300:]))
    assert not wrong, wrong
    assert sorted(p.name for p in places.iterdir()) == before  # nothing written: no run, export or knowledge base
    assert not Path('/proc/modulenas-run').exists()


def test_a_bug_is_a_traceback_and_a_request_to_report_it(monkeypatch, capsys):
    "What is not the user's mistake is shown as what it is: exit status 1, the traceback, and where to report it."
    from modulenas import cli
    def broken(): raise RuntimeError('an invariant broke')
    with pytest.raises(SystemExit) as e: cli._run_cli(broken)
    err = capsys.readouterr().err
    assert e.value.code == 1 and 'Traceback' in err and 'RuntimeError: an invariant broke' in err
    assert 'bug in modulenas' in err.strip().splitlines()[-1]


def test_a_failure_of_the_machine_is_one_line_and_not_a_bug(monkeypatch, capsys):
    "A full disk or a database error stops a command with one line that says what finished is kept, no traceback."
    import sqlite3
    from modulenas import cli
    for exc in (OSError(28, 'No space left on device'), sqlite3.OperationalError('disk I/O error'), PermissionError(13, 'Permission denied')):
        def failing(): raise exc
        with pytest.raises(SystemExit) as e: cli._run_cli(failing)
        err = capsys.readouterr().err
        assert e.value.code == 1 and 'Traceback' not in err and str(exc) in err and 'bug' not in err
        assert 'run the same command again' in err


@pytest.mark.parametrize('var,value,says', [('MODULENAS_DEVICE', 'tpu', "MODULENAS_DEVICE='tpu' is not a device"),
                                             ('MODULENAS_PROGRESS_SECONDS', 'abc', "MODULENAS_PROGRESS_SECONDS='abc' must be a number"),
                                             ('MODULENAS_CACHE', 'afile', 'MODULENAS_CACHE=')])
def test_a_bad_environment_variable_is_named(var, value, says, kb, places, monkeypatch, capsys):
    "An environment variable modulenas cannot use: one line naming it, exit status 2, nothing written."
    monkeypatch.setenv(var, str(places / value) if value == 'afile' else value)
    before = sorted(p.name for p in places.iterdir())
    code, err = run_in_process(['modulenas-search', kb, '--run-dir', places / 'env_run'], monkeypatch, capsys)
    assert code == 2 and says in err and 'Traceback' not in err, err
    assert sorted(p.name for p in places.iterdir()) == before


def test_a_broken_plugin_model_is_one_line_and_leaves_no_knowledge_base(cli, tmp_path):
    "A plug-in network whose constructor raises: one line naming the model and the file; no empty knowledge base left."
    plugin = tmp_path / 'my_models.py'
    plugin.write_text("from torch import nn\nfrom modulenas import zoo\n\n@zoo.register_model(filename='mynet-0123abcd.pt')\n"
                      "def mynet(num_classes: int = 10) -> nn.Module:\n    raise RuntimeError('my constructor is broken')\n")
    for cmd in (['modulenas-build-kb', '--out', tmp_path / 'kb'], ['modulenas-run', '--out', tmp_path / 'run']):
        r = cli(*cmd, '--models', 'mynet', '--plugins', plugin, '--offline')
        assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
        assert f"zoo model 'mynet' (registered in {plugin}) cannot be cut into modules: RuntimeError: my constructor is broken" in r.stderr
    assert not (tmp_path / 'kb').exists() and not (tmp_path / 'run' / 'kb').exists()


def test_every_script_says_its_version(monkeypatch, capsys):
    import modulenas
    for name in SCRIPTS:
        exe = shutil.which(name) or str(Path(sys.executable).parent / name)
        monkeypatch.setattr(sys, 'argv', [exe, '--version'])
        with pytest.raises(SystemExit) as e: runpy.run_path(exe, run_name='__main__')
        assert e.value.code in (0, None) and capsys.readouterr().out.strip() == f'modulenas {modulenas.__version__}', name
