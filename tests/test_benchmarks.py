"The benchmark scripts in benchmarks/, run as a user runs them, at a tiny size."
import importlib, json, math, shutil, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn

from modulenas.core import shared_dir
from modulenas.pipeline import read_hits, read_run

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


def test_strategies(tmp_path, kb_dir):
    out = tmp_path / 'strategies.json'
    r = run_script('strategies.py', '--kb', kb_dir, '--models', 'resnet[23][02]', '--strategies', 'random,surrogate',
                   '--four', 'surrogate', '--seeds', '0,1', '--budget', 8, '--pop-size', 3, '--n-calib', 64,
                   '--n-val', 128, '--threads', 1, '--out', out)
    assert r.returncode == 0, r.stderr
    report = json.loads(out.read_text())
    for part, names in (('two', ['random', 'surrogate']), ('four', ['surrogate'])):
        rows = report[part]['rows']
        assert [row['strategy'] for row in rows] == names and all(row['seeds'] == 2 for row in rows)
        runs = report[part]['runs']
        assert len(runs) == 2 * len(names) and all(len(run['keys']) == 8 for run in runs)
        for run in runs:
            hv = [v for _, v in run['hv_curve']]
            assert run['hv_curve'][-1][0] == 8 and 0 < run['hv'] == hv[-1]
            assert all(b >= a - 1e-9 for a, b in zip(hv, hv[1:])), hv  # never shrinks (up to rounding)
        # a candidate asked for by several runs is evaluated once: the parents at least are shared
        assert report[part]['evaluations'] < sum(len(run['keys']) for run in runs)
    assert [row['chosen'] for row in next(r for r in report['two']['runs'] if r['strategy'] == 'surrogate')['log']]
    assert (tmp_path / 'strategies-two.png').exists() and (tmp_path / 'strategies-four.png').exists()
    # run again: every finished run is read back from its folder, nothing evaluated again, the same tables
    r2 = run_script('strategies.py', '--kb', kb_dir, '--strategies', 'random,surrogate', '--four', 'surrogate',
                    '--seeds', '0,1', '--budget', 8, '--pop-size', 3, '--n-calib', 64, '--n-val', 128, '--threads', 1, '--out', out)
    assert r2.returncode == 0, r2.stderr
    again = json.loads(out.read_text())
    assert [again[p]['rows'] for p in ('two', 'four')] == [report[p]['rows'] for p in ('two', 'four')]
    assert 'read from earlier runs' in r2.stdout and ', 0 read from earlier runs' not in r2.stdout


MIXED = 'resnet20,chenyaofo_resnet20,shufflenet*'   # two ResNet lineages and a ShuffleNet: every group can be drawn


def test_fidelity(tmp_path, kb_dir):
    from modulenas.zoo import find_weights
    if any(find_weights(m) is None for m in ('resnet20', 'chenyaofo_resnet20', 'shufflenetv2_x0_5')):
        pytest.skip('weights of resnet20, chenyaofo_resnet20 or shufflenetv2_x0_5 not found in the shared zoo folder')
    out, png = tmp_path / 'fid.json', tmp_path / 'fid.png'
    args = ['--kb', kb_dir.with_name('kb_mixed'), '--models', MIXED, '--n-family', 1, '--n-lineage', 1, '--n-within', 1,
            '--n-edits', 3, '--steps', 2, '--n-calib', 64, '--calib-more', 96, '--n-val', 128, '--refine-steps', '1,2',
            '--strong-steps', 3, '--n-strong', 2, '--downstream-steps', 2, '--threads', 1, '--out', out, '--png', png]
    r = run_script('fidelity.py', *args)
    assert r.returncode == 0, r.stderr
    report = json.loads(out.read_text())
    rows = {row['name']: row for row in report['rows']}
    assert report['complete'] and len(rows) == 9 and png.exists() and report['pool']['notes'] == []
    assert {n: row['group'] for n, row in rows.items()} == {
        'chenyaofo_resnet20': 'parent', 'resnet20': 'parent', 'shufflenetv2_x0_5': 'parent',
        'fam01': 'family', 'lin01': 'lineage', 'mix01': 'within', 'edit01': 'edit', 'edit02': 'edit', 'edit03': 'edit'}
    for name in ('edit01', 'edit02', 'edit03'):  # one block swapped, dropped or repeated: the rest is the parent's
        c, parent = rows[name]['candidate'], rows[name]['candidate']['stem'].split(':')[0]
        assert c['head'].startswith(parent) and sum(not m.startswith(parent) for m in c['body']) <= 1
    assert rows['edit01']['neg_seams'] < 0 and rows['resnet20']['neg_seams'] == 0 and rows['resnet20']['adapter_r2_mean'] == 1.0
    assert rows['resnet20']['parent_acc_mean'] == pytest.approx(rows['resnet20']['acc_raw'])
    parents_of = lambda row: {m.split(':')[0] for m in (row['candidate']['stem'], *row['candidate']['body'],
                                                        row['candidate']['head'])}
    fam = parents_of(rows['fam01'])
    assert 'shufflenetv2_x0_5' in fam and fam & {'resnet20', 'chenyaofo_resnet20'}
    assert parents_of(rows['lin01']) == {'resnet20', 'chenyaofo_resnet20'}
    assert len(parents_of(rows['mix01'])) == 1
    for row in rows.values():
        assert row['error'] is None and math.isfinite(row['naswot']) and row['synflow'] > 0
        assert row['naswot_s'] > 0 and row['synflow_s'] > 0 and 0 <= row['acc_finetuned'] <= 1
    scores = {'acc_raw', 'acc_stitched_nohead', 'acc_stitched', 'acc_head_all', 'acc_bn_only', 'acc_both', 'acc_both_down',
              'acc_both_more', 'acc_refined_1', 'acc_refined_2', 'params', 'naswot', 'synflow', 'adapter_r2_mean', 'neg_seams', 'parent_acc_mean'}
    for key in ('kendall_tau', 'tau_ci95', 'top5_recall', 'kendall_tau_mixtures', 'tau_ci95_mixtures',
                'top5_recall_mixtures'):
        assert set(report[key]) == scores, key
    for s in scores:
        tau, (lo, hi) = report['kendall_tau'][s], report['tau_ci95'][s]
        if math.isfinite(tau): assert -1 <= lo <= tau + 1e-9 and tau - 1e-9 <= hi <= 1, (s, lo, tau, hi)
        assert 0 <= report['top5_recall'][s] <= 1 and (report['top5_recall'][s] * 5) % 1 < 1e-9
    pairs = [(row['acc_stitched'], row['acc_finetuned']) for row in rows.values()]
    assert report['kendall_tau']['acc_stitched'] == pytest.approx(stats.kendalltau(*zip(*pairs)).statistic)
    v = report['verdict']
    assert v['score'] == 'acc_stitched' and set(v['baselines']) == {'params', 'naswot', 'synflow', 'adapter_r2_mean', 'neg_seams', 'parent_acc_mean'}
    assert v['passed'] == (v['tau'] >= 0.7 and all(v['lower'] > t for t in v['baselines'].values()))
    assert 'verdict: tau(acc_stitched)' in r.stdout and 'top-5 recall' in r.stdout
    row = rows['mix01']
    assert 0 < row['refine_s_1'] <= row['refine_s_2'] and 0 <= row['acc_refined_2'] <= 1
    assert report['score_s_median']['acc_refined_2'] >= report['score_s_median']['acc_stitched']
    assert {g['group']: g['candidates'] for g in report['by_group']} == dict(parent=3, family=1, lineage=1, within=1, edit=3)
    assert 'on the mixtures alone: verdict' in r.stdout and report['verdict_all']['score'] == 'acc_stitched'
    assert report['strong']['n'] == 2 and sum(row['acc_finetuned_strong'] is not None for row in rows.values()) == 2
    assert all(row['group'] != 'parent' for row in rows.values() if row['acc_finetuned_strong'] is not None)
    assert 'acc_finetuned' in report['strong']['kendall_tau']  # the 200-step truth against the stronger one
    t = report['treatment']
    assert t['best'] in t['taus'] and {d['a'] for d in t['against_default']} == {'acc_head_all', 'acc_bn_only', 'acc_both', 'acc_both_down',
                                                                       'acc_both_more', 'acc_raw'}
    for d in t['against_default']:
        if math.isfinite(d['diff']): assert d['ci'][0] <= d['ci'][1] and 0 <= d['p'] <= 1
    assert 'treatment ranking the mixtures and edits best' in r.stdout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'benchmarks'))
    from fidelity import fidelity_tables
    text = fidelity_tables(report)
    assert text.strip() in r.stdout and 'Verdict, on the 3 mixtures alone' in text and 'Against 3 fine-tuning steps (2 mixtures' in text
    assert sum(line.startswith('| ') for line in text.splitlines()) == 1 + len(scores)
    r2 = run_script('fidelity.py', *args)  # resumes: every row is already there
    assert r2.returncode == 0 and '[1/9]' not in r2.stdout
    assert json.loads(out.read_text())['rows'] == report['rows']
    # the dna benchmark reads this pool: block scores against fine-tuned accuracy, then dna beside NSGA-II
    dna_out = tmp_path / 'dna.json'
    r3 = run_script('dna.py', '--kb', kb_dir.with_name('kb_mixed'), '--fidelity', out, '--n-images', 32, '--budget', 4,
                    '--pop-size', 2, '--draws', 100, '--threads', 1, '--out', dna_out)
    assert r3.returncode == 0, r3.stderr
    dna = json.loads(dna_out.read_text())
    assert 0 < dna['fidelity']['lined_up'] <= dna['fidelity']['n_rows'] == 9
    assert set(dna['fidelity']['stats']['kendall_tau']) == {'acc_stitched', 'dna_block', 'params'}
    assert all(r['dna_block'] <= 0 for r in dna['fidelity']['rows'])  # minus a sum of errors
    side = {row['strategy']: row for row in dna['side_by_side']}
    assert set(side) == {'dna', 'nsga2'} and side['dna']['candidates'] == 4 and side['nsga2']['candidates'] >= 2
    assert (tmp_path / 'dna' / 'dna' / 'pareto.json').exists() and (tmp_path / 'dna' / 'nsga2' / 'pareto.json').exists()
    # and so does the adwp benchmark: predicted adapters learned, ranked against fitted and fine-tuned, screening beside plain
    adwp_out = tmp_path / 'adwp.json'
    r4 = run_script('adwp.py', '--kb', kb_dir.with_name('kb_mixed'), '--fidelity', out, '--n-collect', 2, '--steps', 10,
                    '--budget', 4, '--pop-size', 2, '--draws', 50, '--threads', 1, '--out', adwp_out)
    assert r4.returncode == 0, r4.stderr
    adwp = json.loads(adwp_out.read_text())
    learn = adwp['learning']
    assert learn['collected'] == 2 and learn['kept_adapters'] > 0 and learn['n_train'] + learn['n_held'] == learn['pairs']
    fid = adwp['fidelity']
    assert len(fid['rows']) == 9 and set(fid['vs_finetuned'][0]['kendall_tau']) == {'acc_closed_form', 'acc_predicted', 'acc_stitched', 'params'}
    assert all(0 <= r[k] <= 1 for r in fid['rows'] for k in ('acc_closed_form', 'acc_predicted', 'acc_stitched'))
    parents = [r for r in fid['rows'] if r['group'] == 'parent']
    assert all(r['acc_closed_form'] == r['acc_predicted'] == r['acc_stitched'] for r in parents)  # nothing to stitch
    side = {row['search']: row for row in adwp['side_by_side']}
    assert set(side) == {'nsga2 screened', 'nsga2'} and side['nsga2 screened']['asked'] == 4
    assert (tmp_path / 'adwp' / 'screened' / 'pareto.json').exists() and (tmp_path / 'adwp' / 'plain' / 'pareto.json').exists()


def bench(monkeypatch, name: str):
    "The module benchmarks/`name`.py, imported as the scripts import each other."
    monkeypatch.syspath_prepend(str(ROOT / 'benchmarks'))
    return importlib.import_module(name)


def test_pool_without_second_family(kb_dir, monkeypatch):
    "A knowledge base of one lineage gives the parents and 'within' mixtures; the other groups are empty and said so."
    fid = bench(monkeypatch, 'fidelity')
    kb = fid.open_kb(kb_dir, SMALL[1])
    cands, groups, notes = fid.build_pool(kb, n_family=2, n_lineage=2, n_within=3, seed=1)
    assert [groups[c.key] for c in cands] == ['parent'] * 2 + ['within'] * 3
    assert [c.name for c in cands[2:]] == ['mix01', 'mix02', 'mix03'] and len({c.key for c in cands}) == 5
    assert len(notes) == 2 and 'no family mixtures' in notes[0] and 'no lineage mixtures' in notes[1]
    recs = fid.module_records(kb)
    sizes = [fid.kb_params(c, recs) for c in cands[2:]]
    assert sizes == sorted(sizes)   # named in order of size
    again = fid.build_pool(kb, n_family=2, n_lineage=2, n_within=3, seed=1)[0]
    assert [c.key for c in again] == [c.key for c in cands]   # deterministic from the seed


def test_tau_statistics(monkeypatch):
    "The batched tau-b agrees with scipy (ties included); the bootstrap interval and top-k recall behave."
    fid = bench(monkeypatch, 'fidelity')
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, size=(3, 12)).astype(float), rng.integers(0, 4, size=(3, 12)).astype(float)
    want = [stats.kendalltau(a, b).statistic for a, b in zip(x, y)]
    np.testing.assert_allclose(fid.tau_b(x, y), want, rtol=1e-12)
    assert math.isnan(fid.tau_b(np.ones(4), np.arange(4.)))
    a = rng.normal(size=20); b = a + 0.5 * rng.normal(size=20)
    lo, hi = fid.tau_interval(a, b, draws=500, seed=0)
    assert lo <= fid.tau_b(a, b) <= hi and hi - lo < 1
    assert fid.tau_interval(a, b, draws=500, seed=0) == [lo, hi]   # seeded
    names = list('abcdefg')
    truth = np.array([7., 6, 5, 4, 3, 2, 1])
    assert fid.top_k_recall(truth, truth, names) == 1
    assert fid.top_k_recall(-truth, truth, names) == 3 / 5   # the bottom five hold three of the top five


def test_naswot_by_hand(monkeypatch):
    "NASWOT's kernel counts, per pair of inputs, the ReLU units that agree; module and functional ReLUs both count."
    import modulenas.scores as px

    class TwoRelu(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2); self.act = nn.ReLU()
            with torch.no_grad(): self.lin.weight.copy_(torch.eye(2)); self.lin.bias.zero_()
        def forward(self, x): return torch.cat([self.act(self.lin(x)), F.relu(x)], 1)

    x = torch.tensor([[1., -1.], [2., 3.], [-1., -2.]])   # codes 10, 11, 00 at each of the two ReLU layers
    one = np.array([[2, 1, 1], [1, 2, 0], [1, 0, 2]])     # 2 units minus the Hamming distances
    net = TwoRelu().train()
    K, units = px.naswot_kernel(net, x)
    assert units == 4 and net.training
    np.testing.assert_array_equal(K.numpy(), 2 * one)
    assert px.naswot(net, x) == pytest.approx(math.log(np.linalg.det(2 * one)))   # log 32
    assert px.naswot(net, x[[0, 0, 1]]) == float('-inf')   # two equal codes: a singular kernel


def test_synflow_by_hand(monkeypatch):
    "synflow of linear-BatchNorm-ReLU-linear equals the closed form of the same network without BatchNorm."
    import modulenas.scores as px
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).eval()
    with torch.no_grad():
        bn = net[1]
        bn.running_mean.normal_(); bn.running_var.uniform_(0.5, 2); bn.weight.normal_(); bn.bias.normal_()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    W1, b1 = net[0].weight.detach().double().abs().numpy(), net[0].bias.detach().double().abs().numpy()
    W2, b2 = net[3].weight.detach().double().abs().numpy(), net[3].bias.detach().double().abs().numpy()
    h = W1 @ np.ones(3) + b1              # hidden units for the all-ones input (all positive: the ReLU passes them)
    c = W2.sum(0)                         # dR/dh
    want = (W2 * h[None]).sum() + b2.sum() + (W1 * c[:, None]).sum() + (b1 * c).sum()
    assert px.synflow(net, (3,)) == pytest.approx(want, rel=1e-12)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())   # the network is left as it was
    assert isinstance(net[1], nn.BatchNorm1d) and net[0].weight.grad is None


def test_vs_parents(tmp_path, kb_dir):
    "The searched-networks-against-parents benchmark end to end at a toy size, across two families; a rerun resumes."
    out = tmp_path / 'vsp'
    args = ['--out', out, '--models', 'resnet20,shufflenet*', '--pop-size', 4, '--n-gen', 2, '--n-calib', 64,
            '--n-val', 64, '--top-k', 1, '--steps', 2, '--scratch-steps', 2]
    r = run_script('vs_parents.py', *args)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / 'results.json').read_text())
    kinds = [row['kind'] for row in report['rows']]
    assert kinds.count('new') == 1 and kinds.count('scratch') == 1 and kinds.count('parent') >= 1
    assert {row['name'] for row in report['rows'] if row['kind'] == 'parent'} <= {'resnet20', 'shufflenetv2_x0_5'}
    for row in report['rows']:
        assert 0 <= row['test_after'] <= 1 and row['params'] > 0 and row['latency_ms'] > 0
    scratch, new = (next(row for row in report['rows'] if row['kind'] == k) for k in ('scratch', 'new'))
    assert scratch['key'] == new['key'] and scratch['params'] == new['params'] and scratch['steps'] == 2
    hv = report['test_hypervolume']
    assert 0 < hv['parents'] <= hv['parents_and_new']  # adding points never lowers a hypervolume
    assert len(report['versus_parents']) == 1 and report['goal'].startswith('goal:')
    assert (out / 'vs_parents.png').exists() and '| network | kind |' in (out / 'results.md').read_text()
    # intervals: each accuracy's, and each new network (and the from-scratch one) against the others on the same images
    assert all(row['test_low'] <= row['test_after'] <= row['test_high'] for row in report['rows'])
    acc = {row['name']: row['test_after'] for row in report['rows']}
    pairs = {(p['a'], p['b']): p for p in report['paired']}
    assert set(pairs) == {(new['name'], n) for n, row in acc.items() if n in {'resnet20', 'shufflenetv2_x0_5'}} | {(scratch['name'], new['name'])}
    for (a, b), p in pairs.items():
        assert p['low'] <= p['diff'] <= p['high'] and abs(p['diff'] - (acc[a] - acc[b])) <= 0.002, p
    assert 'paired bootstrap interval' in (out / 'results.md').read_text() and (out / 'test_hits.npz').exists()
    kept = read_hits(out / 'search' / 'finetune')  # recorded as each network was fine-tuned, not scored again
    assert {row['key'] for row in report['rows'] if row['kind'] != 'scratch'} <= set(kept)
    r2 = run_script('vs_parents.py', *args)  # everything is there: nothing is trained again
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert json.loads((out / 'results.json').read_text())['rows'] == report['rows']
    bad = run_script('vs_parents.py', *args[:-2], '--scratch-steps', 3)
    assert bad.returncode != 0 and 'other settings' in bad.stderr
    # another strategy, ranking by the refined score, beside it reuses its fine-tuned parents instead of training them again
    out2 = tmp_path / 'vsp_splice'
    r3 = run_script('vs_parents.py', '--out', out2, *args[2:], '--strategy', 'splice', '--refine-steps', 1, '--no-scratch',
                    '--parents-from', out)
    assert r3.returncode == 0, r3.stderr[-3000:]
    assert 'fine-tuned parents copied' in r3.stdout
    parents = lambda rows: {row['name']: row['test_after'] for row in rows if row['kind'] == 'parent'}
    report2 = json.loads((out2 / 'results.json').read_text())
    assert report2['search']['strategy'] == 'splice' and parents(report2['rows']) == parents(report['rows'])
    run2 = read_run(out2 / 'search')  # scored by the refined score: its images include the training split's
    assert run2['config']['setup']['eval']['refine_steps'] == 1
    assert any(rec['result'].get('acc_refined') is not None for rec in run2['archive'].values())
    assert {row['key'] for row in report2['rows']} <= set(read_hits(out2 / 'search' / 'finetune'))  # the parents' came along
    other = run_script('vs_parents.py', '--out', tmp_path / 'vsp3', *args[2:], '--steps', 3, '--no-scratch', '--parents-from', out)
    assert other.returncode != 0 and 'other steps' in other.stderr and not (tmp_path / 'vsp3').exists()  # refused first
    # the two searches side by side, and a network written by hand fine-tuned as the comparison does
    seams = run_script('seams.py', out / 'search', out2 / 'search')
    assert seams.returncode == 0 and 'new candidates by seams' in seams.stdout, seams.stderr[-3000:]
    hand = run_script('handmade.py', out, 'resnet20:00-10')  # ResNet-20 itself: the parent's result again
    assert hand.returncode == 0, hand.stderr[-3000:]
    (row,) = json.loads((out / 'handmade.json').read_text())
    assert row['seams'] == 0 and abs(row['test_after'] - parents(report['rows'])['resnet20']) <= 2 / 64
    assert 'paired bootstrap interval' in hand.stdout and f"handmade-{row['key']}" in read_hits(out)  # against each parent
    bad_chain = run_script('handmade.py', out, 'resnet20:05-01')
    assert bad_chain.returncode != 0 and 'backwards' in bad_chain.stderr


def test_budgets(tmp_path, kb_dir):
    "The per-budget verdict end to end at a toy size: every arm trained with the same steps and seeds, Holm-corrected verdicts; a rerun trains nothing."
    out, results = tmp_path / 'budgets', tmp_path / 'results' / 'budgets.json'
    args = ['--out', out, '--models', 'resnet20,chenyaofo_resnet20,chenyaofo_resnet56', '--budgets', '300k', '--steps', 2, '--seeds', 2,
            '--pop-size', 4, '--n-gen', 2, '--constrained-n-gen', 2, '--n-calib', 64, '--n-val', 64, '--n-test', 500, '--n-bn', 64, '--scratch-lrs', '0.05,0.1',
            '--reference-mult', 2, '--draws', 200, '--latency-repeats', 2]
    r = run_script('budgets.py', *args, '--results', results)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(results.read_text())
    assert report == json.loads((out / 'results.json').read_text()) and results.with_suffix('.png').exists()
    arms = {s['arm']: s for s in report['summary']}
    assert set(arms) == {'modulenas', 'parent', 'cut', 'pruned', 'scratch', 'distilled', 'scratch x2'}, set(arms)
    for arm, s in arms.items():
        assert s['params'] <= 300_000 and s['low'] <= s['test_after'] <= s['high'], s
        assert s['seeds'] == (1 if arm == 'scratch x2' else 2) and s['steps'] == (4 if arm == 'scratch x2' else 2)
    jobs = json.loads((out / 'jobs.json').read_text())
    assert set(read_hits(out)) == set(jobs)  # every training kept which test images it got right
    lrs = {j['lr'] for j in jobs.values() if j['arm'] == 'scratch'}
    assert len([j for j in jobs.values() if j['arm'] == 'scratch']) == 3 and len(lrs) == 2  # two rates tried, one kept for seed 1
    comps = report['comparisons']
    assert {c['b'] for c in comps} == {'parent', 'cut', 'pruned', 'scratch', 'distilled'} and sum(c['primary'] for c in comps) == 1
    for c in comps:
        assert 0 <= c['all_p_holm'] <= 1 and c['all_verdict'] in ('better', 'level', 'worse')
        assert c['all_low'] <= c['diff'] <= c['all_high']
        assert abs(c['diff'] - (arms['modulenas']['test_after'] - arms[c['b']]['test_after'])) < 1e-9
    primary = next(c for c in comps if c['primary'])
    assert primary['b'] == max((s for s in report['summary'] if s['arm'] in ('parent', 'cut', 'pruned', 'scratch', 'distilled')),
                               key=lambda s: s['val_after'])['arm']  # chosen on validation accuracy, not on the test half
    assert primary['all_p_holm'] >= primary['p'] and 'Verdict (300k params)' in (out / 'results.md').read_text()
    assert 'quality-75 JPEG' in report['data_note'] and {p['network'] for p in report['parents_untrained']} == {'resnet20', 'chenyaofo_resnet20', 'chenyaofo_resnet56'}
    assert arms['pruned']['network'].startswith('chenyaofo_resnet56 pruned')  # the one parent too large for the budget
    r2 = run_script('budgets.py', *args)
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert json.loads((out / 'jobs.json').read_text()) == jobs and ': val ' not in r2.stdout  # nothing trained again
    bad = run_script('budgets.py', *args[:-2], '--latency-repeats', 3)
    assert bad.returncode != 0 and 'other settings' in bad.stderr
    # lever 3: the final pick by short fine-tuning, its steps given to every alternative too (the searches reused)
    pick = tmp_path / 'budgets-pick'
    shutil.copytree(out, pick, ignore=shutil.ignore_patterns('args.json', 'plans.json', 'results.*'))
    args3 = [pick if a == out else a for a in args]; args3[args3.index('--seeds') + 1] = 1  # one seed is enough here
    r3 = run_script('budgets.py', *args3, '--pick-from', 3, '--pick-steps', 1)
    assert r3.returncode == 0, r3.stderr[-3000:]
    rep3 = json.loads((pick / 'results.json').read_text())
    pk = rep3['plans']['300k params']['pick']
    assert 1 <= len(pk['pool']) <= 3 and pk['picked'] in pk['pool'] and pk['steps'] == sum(len(x) * x[0]['steps'] for x in pk['rounds'])
    steps3 = {s['arm']: s['steps'] for s in rep3['summary']}
    assert steps3['modulenas'] == 2 and all(v == 2 + pk['steps'] for a, v in steps3.items() if a not in ('modulenas', 'scratch x2'))
    jobs3 = json.loads((pick / 'jobs.json').read_text())
    assert all(j['test_after'] is None and j['id'] not in read_hits(pick) for j in jobs3.values() if j['arm'] == 'pick')
    assert 'The final pick fine-tuned' in (pick / 'results.md').read_text()
    for flag, value, says in (('--budgets', '0', 'positive'), ('--budgets', '2ms', 'latency-repeats'), ('--scratch-lrs', 'x', 'numbers')):
        extra = ['--latency-repeats', 0] if flag == '--budgets' and value == '2ms' else []
        bad = run_script('budgets.py', '--out', tmp_path / 'bad', flag, value, *extra)
        assert bad.returncode == 2 and says in bad.stderr and not (tmp_path / 'bad').exists(), (flag, bad.stderr)


def test_holm_and_seed_bootstrap():
    "Holm's adjusted p-values against a hand computation; the seed-and-image bootstrap is centred on the mean and widens with seed variance."
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    from _common import bootstrap_p, drawn_accuracies, holm
    adjusted, divisor = holm([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(adjusted, [0.03, 0.06, 0.06, 0.02]) and divisor == [3, 1, 2, 4]
    rng = np.random.default_rng(0)
    n = 2000
    images = rng.integers(0, n, (1000, n))
    same = np.tile(rng.random(n) < 0.7, (3, 1))  # three seeds that agree on every image
    apart = np.stack([rng.random(n) < p for p in (0.6, 0.7, 0.8)])  # seeds that do not
    a, b = drawn_accuracies(same, images, rng), drawn_accuracies(apart, images, rng)
    assert abs(a.mean() - same.mean()) < 0.005 and abs(b.mean() - apart.mean()) < 0.01
    assert b.std() > 2 * a.std()  # seed-to-seed variance is in the interval
    assert bootstrap_p(np.full(100, 0.1)) == 0.01 and bootstrap_p(np.linspace(-1, 1, 101)) == 1.0
