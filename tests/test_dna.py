"The dna strategy through the console scripts: block scores measured once, kept in the knowledge base, read back."
import json, sqlite3

TINY = ['--n-calib', 64, '--n-val', 128, '--pop-size', 3, '--n-gen', 2, '--seed', 0]


def _measurements(kb) -> list:
    with sqlite3.connect(kb / 'index.sqlite') as db:
        rows = db.execute("SELECT module_id, kind, context, value, added FROM measurements ORDER BY 1, 2, 3").fetchall()
    db.close()
    return rows


def test_dna_beside_nsga2_keeps_its_block_scores(kb, cli, tmp_path):
    before = {r[:3] for r in _measurements(kb)}
    r = cli('modulenas-search', kb, '--run-dir', tmp_path / 'a', '--strategy', 'dna,nsga2', *TINY)
    assert r.returncode == 0, r.stderr
    assert 'hypervolume dna' in r.stdout and 'nsga2' in r.stdout
    pareto = json.loads((tmp_path / 'a' / 'pareto.json').read_text())
    assert pareto['strategies'] == ['dna', 'nsga2'] and len(pareto['evaluated']['dna']) == 6
    rows = _measurements(kb)
    blocks = {json.loads(c)['block'] for _, k, c, _, _ in rows if k == 'dna'}
    assert len(blocks) == 9 + 15  # every block of ResNet-20 and ResNet-32 was scored as a teacher block
    assert all(0 <= v <= 1 for *_, v, _ in rows)
    assert {r[:3] for r in rows} - before  # measured by this run
    # a second search on the same calibration images reads them back: nothing measured again
    r = cli('modulenas-search', kb, '--run-dir', tmp_path / 'b', '--strategy', 'dna', *TINY)
    assert r.returncode == 0, r.stderr
    assert _measurements(kb) == rows
    assert json.loads((tmp_path / 'b' / 'pareto.json').read_text())['evaluated']['dna'] == pareto['evaluated']['dna']


def test_dna_budget_it_cannot_meet_is_a_clear_error(kb, cli, tmp_path):
    r = cli('modulenas-search', kb, '--run-dir', tmp_path / 'a', '--strategy', 'dna', '--max-params', 5000, *TINY)
    assert r.returncode == 2 and 'no chain of blocks fits max_params = 5,000' in r.stderr and 'Traceback' not in r.stderr
    # nothing was evaluated: the corrected command runs in the same folder
    r = cli('modulenas-search', kb, '--run-dir', tmp_path / 'a', '--strategy', 'dna', '--max-params', 300000, *TINY)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / 'a' / 'config.json').read_text())['search']['max_params'] == 300000
