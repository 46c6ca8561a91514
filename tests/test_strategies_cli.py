"The growth and surrogate strategies through modulenas-search: their flags, four objectives, a constraint, their plots."
import json

TINY = ['--n-calib', 64, '--n-val', 128, '--pop-size', 3, '--n-gen', 4, '--seed', 0]


def test_growth_and_surrogate_with_four_objectives_and_a_cap(kb, cli, tmp_path):
    run = tmp_path / 'run'
    r = cli('modulenas-search', kb, '--run-dir', run, '--strategy', 'growth,surrogate', '--objectives',
            'error,params,flops,latency', '--max-params', 300000, '--growth-elite', 4, '--n-initial', 6,
            '--surrogate-predictors', 'gp,trees', *TINY)
    assert r.returncode == 0, r.stderr
    assert 'hypervolume growth' in r.stdout and 'surrogate' in r.stdout
    config = json.loads((run / 'config.json').read_text())['search']
    assert config['options'] == {'growth': {'elite': 4}, 'surrogate': {'n_initial': 6, 'predictors': ['gp', 'trees']}}
    pareto = json.loads((run / 'pareto.json').read_text())
    assert pareto['objectives'] == ['error', 'params', 'flops', 'latency']
    assert all(len(pareto['evaluated'][s]) == 12 for s in ('growth', 'surrogate'))  # the same budget
    for s in ('growth', 'surrogate'):
        assert pareto['fronts'][s] and all(row['params'] <= 300000 and row['latency_ms'] > 0 for row in pareto['fronts'][s])
    evals = [json.loads(l) for l in (run / 'evaluations.jsonl').read_text().splitlines()]
    over = [e for e in evals if e['result']['params'] and e['result']['params'] > 300000]
    assert over and all(max(e['G']) > 0 for e in over)  # ResNet-32 and its like: evaluated, recorded, infeasible
    state = json.loads((run / 'checkpoint.json').read_text())['strategies']
    log = state['surrogate']['state']['log']
    assert log and all(set(row['tau']) == {'gp', 'trees'} and row['chosen'] in ('gp', 'trees') for row in log)
    assert [h['depth'] for h in state['growth']['state']['history']][0] == 1
    assert (run / 'growth.png').exists() and (run / 'surrogate.png').exists()
