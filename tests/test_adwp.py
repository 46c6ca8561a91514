"Screening a search with predicted adapters, through the console scripts: what is kept, what is screened out, resume."
import json, shutil, sqlite3

from modulenas.search import Archive

TINY = ['--n-calib', 64, '--n-val', 128, '--pop-size', 4, '--n-gen', 2, '--seed', 0, '--strategy', 'nsga2']


def _kept_adapters(kb) -> int:
    with sqlite3.connect(kb / 'index.sqlite') as db: n = db.execute("SELECT count(*) FROM tensors WHERE kind = 'adapter'").fetchone()[0]
    db.close()
    return n


def test_screened_search_fits_only_the_best_share(kb, cli, tmp_path):
    run = tmp_path / 'run'
    r = cli('modulenas-search', kb, '--run-dir', run, '--predict-adapters', 0.5, *TINY)
    assert r.returncode == 0, r.stderr
    recs = list(Archive(run / 'evaluations.jsonl').records.values())
    screened = [x for x in recs if (x['result']['error'] or '').startswith('screened out')]
    full = [x for x in recs if x['result']['error'] is None]
    assert screened and full and all(x['result']['acc_predicted'] is not None for x in recs)
    assert all(max(x['G']) > 0 for x in screened)  # never on a front
    assert json.loads((run / 'config.json').read_text())['setup']['screen'] == {'keep': 0.5, 'predictor': 'closed-form'}
    front = json.loads((run / 'pareto.json').read_text())['fronts']['nsga2']
    assert {f['key'] for f in front} <= {x['key'] for x in full}
    # resuming a finished run rebuilds the screening from config.json and evaluates nothing again
    r = cli('modulenas-resume', run)
    assert r.returncode == 0, r.stderr
    assert len(Archive(run / 'evaluations.jsonl').records) == len(recs)


def test_trained_predictor_needs_kept_adapters(kb, cli, tmp_path):
    fresh = tmp_path / 'kb'
    shutil.copytree(kb, fresh)
    with sqlite3.connect(fresh / 'index.sqlite') as db: db.execute("DELETE FROM tensors WHERE kind = 'adapter'")
    db.close()
    r = cli('modulenas-search', fresh, '--run-dir', tmp_path / 'a', '--predict-adapters', 0.5, '--predictor', 'trained', *TINY)
    assert r.returncode == 2 and 'keeps 0: run a plain search first' in r.stderr and 'Traceback' not in r.stderr
    r = cli('modulenas-search', fresh, '--run-dir', tmp_path / 'plain', *TINY[:-2], '--strategy', 'random', '--no-zoo')
    assert r.returncode == 0, r.stderr
    assert _kept_adapters(fresh) >= 20  # every evaluation kept its fitted adapters
    r = cli('modulenas-search', fresh, '--run-dir', tmp_path / 'a', '--predict-adapters', 0.5, '--predictor', 'trained',
            *TINY, '--n-gen', 1, '--no-zoo')
    assert r.returncode == 0, r.stderr
    assert (tmp_path / 'a' / 'adapter_predictor.safetensors').exists()
