"A new search strategy written in a file of its own, registered by a plugin and run through the console scripts."
import json, textwrap

TINY = ['--n-calib', 64, '--n-val', 128, '--pop-size', 3, '--n-gen', 2, '--seed', 0]

# A whole strategy with an option of its own: the parents first, then one gene at a time of the most accurate candidate
# so far moved up by `stride`.
HILL = '''
import dataclasses
from modulenas.search import Strategy, register_strategy

@register_strategy
class HillClimb(Strategy):
    name = 'hill'
    best, error, step = None, 2.0, 0

    @dataclasses.dataclass(frozen=True)
    class Options:
        "The hill climber's settings."
        stride: int = 1  # how far each step moves a gene
        def __post_init__(self):
            if self.stride < 1: raise ValueError(f"stride must be at least 1, not {self.stride}")

    def ask(self):
        if self.best is None: return [list(s) for s in self.seeds]
        g = list(self.best); i = self.step % len(g); self.step += 1
        g[i] = (g[i] + self.options.stride + self.step // len(g)) % (int(self.space.upper[i]) + 1)
        return [[int(v) for v in self.repair(g)]]
    def tell(self, genomes, records):
        for g, r in zip(genomes, records):
            if max(r['G']) <= 0 and r['F'][0] < self.error: self.best, self.error = [int(v) for v in g], r['F'][0]
    def state(self): return dict(best=self.best, error=self.error, step=self.step)
    def load(self, s): self.best, self.error, self.step = s['best'], s['error'], s['step']
'''


def test_plugin_strategy_through_the_cli(kb, cli, tmp_path):
    plugin = tmp_path / 'hill.py'
    plugin.write_text(textwrap.dedent(HILL))
    run = tmp_path / 'run'
    r = cli('modulenas-search', '--plugins', plugin, '--help')  # the plug-in's option is a flag, documented
    assert r.returncode == 0 and '--hill-stride' in r.stdout and 'how far each step moves a gene (default: 1)' in r.stdout, r.stdout
    r = cli('modulenas-search', kb, '--run-dir', run, '--plugins', plugin, '--strategy', 'hill,random', '--hill-stride', 0, *TINY)
    assert r.returncode == 2 and '--hill-stride must be at least 1, not 0' in r.stderr and not run.exists(), r.stderr
    r = cli('modulenas-search', kb, '--run-dir', run, '--plugins', plugin, '--strategy', 'hill,random', '--hill-stride', 2, *TINY)
    assert r.returncode == 0, r.stderr
    assert 'hypervolume hill' in r.stdout
    assert json.loads((run / 'config.json').read_text())['search']['options'] == {'hill': {'stride': 2}}
    pareto = json.loads((run / 'pareto.json').read_text())
    assert pareto['strategies'] == ['hill', 'random']
    assert len(pareto['evaluated']['hill']) == len(pareto['evaluated']['random']) == 6  # the same budget
    assert pareto['fronts']['hill'] and set(pareto['hv_new']) == {'hill', 'random'}
    ck = json.loads((run / 'checkpoint.json').read_text())
    assert ck['strategies']['hill']['state']['step'] >= 1
    # a run folder chooses no code: resuming it without naming its plug-in is refused, naming the file to pass
    r = cli('modulenas-resume', run)
    assert r.returncode == 2 and f'--plugins {plugin}' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    # named by the person resuming it, the plug-in loads in a fresh process
    # with no checkpoint left, resuming replays every strategy from the start: with the option the run was made with,
    # the hill climber asks for what it asked before, all of it already in the archive (stride 1 would ask for others)
    before = (run / 'evaluations.jsonl').read_text()
    (run / 'pareto.json').unlink(); (run / 'checkpoint.json').unlink()
    r = cli('modulenas-resume', run, '--plugins', plugin)
    assert r.returncode == 0, r.stderr
    assert 'hypervolume hill' in r.stdout and (run / 'evaluations.jsonl').read_text() == before
    assert json.loads((run / 'pareto.json').read_text())['evaluated'] == pareto['evaluated']
    assert json.loads((run / 'config.json').read_text())['search']['options'] == {'hill': {'stride': 2}}


def test_a_run_folder_runs_no_code(kb, cli, tmp_path):
    "A config.json crafted to run code (an import path as factory, a plug-in nobody named) runs none of it."
    run = tmp_path / 'run'
    r = cli('modulenas-search', kb, '--run-dir', run, '--strategy', 'random', *TINY)
    assert r.returncode == 0, r.stderr
    marker, evil = tmp_path / 'ran', tmp_path / 'evil.py'
    evil.write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    cfg = json.loads((run / 'config.json').read_text())
    for setup in (dict(cfg['setup'], factory='os:system', kb=f'touch {marker}'), dict(cfg['setup'], plugins=[str(evil)])):
        (run / 'config.json').write_text(json.dumps(dict(cfg, setup=setup)))
        r = cli('modulenas-resume', run)
        assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
        assert ('not registered' in r.stderr) if 'factory' in setup else (f'--plugins {evil}' in r.stderr), r.stderr
        assert not marker.exists()


def test_unknown_strategy_and_missing_plugin_are_clear_errors(kb, cli, tmp_path):
    r = cli('modulenas-search', kb, '--run-dir', tmp_path / 'a', '--strategy', 'annealing', *TINY)
    assert r.returncode == 2 and "unknown strategy 'annealing'" in r.stderr and 'Traceback' not in r.stderr
    r = cli('modulenas-search', kb, '--run-dir', tmp_path / 'b', '--plugins', tmp_path / 'nowhere.py', *TINY)
    assert r.returncode == 2 and 'nowhere.py' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'a').exists() and not (tmp_path / 'b').exists()  # refused before anything was written
