"The `modulenas-build-kb` console script, run as a user runs it."
from modulenas.kb import KnowledgeBase


def test_build_kb_from_zoo(tmp_path, zoo_dir, cli):
    out = tmp_path / 'kb'
    r = cli('modulenas-build-kb', '--out', out, '--models', 'resnet[23]?')
    assert r.returncode == 0, r.stderr
    assert 'modules from 2 models' in r.stdout
    with KnowledgeBase(out) as kb:
        assert kb.models() == ['resnet20', 'resnet32']
        n = len(kb)
        # stem + 3n basic blocks + head for n = 3 and 5
        assert [len(kb.modules_of(m)) for m in kb.models()] == [11, 17]
    again = cli('modulenas-build-kb', '--out', out, '--models', 'resnet[23]?')
    assert again.returncode == 0, again.stderr
    assert 'added nothing new' in again.stdout
    with KnowledgeBase(out) as kb: assert len(kb) == n


def test_bad_arguments_exit_2(tmp_path, cli):
    r = cli('modulenas-build-kb', '--out', tmp_path / 'kb', '--models', 'no-such-net*')
    assert r.returncode == 2
    assert r.stderr.strip().startswith('error: no zoo model matches')
    r = cli('modulenas-build-kb', '--out', tmp_path / 'kb', '--granularity', 'layers')
    assert r.returncode == 2 and '--granularity must be one of' in r.stderr
    (tmp_path / 'afile').write_text('x'); (tmp_path / 'full').mkdir(); (tmp_path / 'full' / 'notes.txt').write_text('x')
    for out, message in ((tmp_path / 'afile', 'is a file, not a folder'),
                         (tmp_path / 'full', 'is not empty and holds no index.sqlite')):
        r = cli('modulenas-build-kb', '--out', out, '--models', 'resnet20')
        assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr, r.stderr


def test_networks_of_your_own(tmp_path, cli):
    "A plug-in file registers a network with its own weight file; the console script cuts it like a zoo model."
    import torch
    from modulenas.zoo import CifarResNet
    torch.manual_seed(0)
    weights = tmp_path / 'mynet8.pt'
    torch.save(CifarResNet(8).state_dict(), weights)
    plugin = tmp_path / 'my_models.py'
    plugin.write_text(f'''from modulenas.zoo import CifarResNet, register_model

@register_model('mynet8', filename={str(weights)!r}, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), family='resnet_cifar',
                source='my lab')
def mynet8(num_classes=10): return CifarResNet(8, num_classes=num_classes)
''')
    out = tmp_path / 'kb'
    r = cli('modulenas-build-kb', '--out', out, '--models', 'mynet*', '--plugins', plugin, '--offline')
    assert r.returncode == 0, r.stderr
    with KnowledgeBase(out) as kb:
        assert kb.models() == ['mynet8'] and len(kb.modules_of('mynet8')) == 5
        meta = kb.model_meta('mynet8')
        assert meta['source'] == 'my lab' and tuple(meta['mean']) == (0.5, 0.5, 0.5)
        net = CifarResNet(8).eval(); net.load_state_dict(torch.load(weights, weights_only=True))
        x = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            y = x
            for r in sorted(kb.modules_of('mynet8'), key=lambda r: r.position): y = kb.load_module(r.id)(y)
            assert torch.allclose(y, net(x), atol=1e-5)  # its modules compute the network with its own weights
    r = cli('modulenas-build-kb', '--out', out, '--plugins', tmp_path / 'missing.py')
    assert r.returncode == 2 and 'plugin file' in r.stderr and 'not found' in r.stderr and 'Traceback' not in r.stderr


def test_narrowed_networks(tmp_path, zoo_dir, cli):
    "--widths stores each model narrowed as well, modules with the same interfaces and fewer parameters; a search can mix them."
    out = tmp_path / 'kb'
    r = cli('modulenas-build-kb', '--out', out, '--models', 'resnet20', '--widths', '0.5')
    assert r.returncode == 0, r.stderr
    assert 'resnet20-w50' in r.stdout
    with KnowledgeBase(out) as kb:
        assert kb.models() == ['resnet20', 'resnet20-w50']
        a, b = kb.modules_of('resnet20'), kb.modules_of('resnet20-w50')
        assert [(x.in_shape, x.out_shape) for x in a] == [(x.in_shape, x.out_shape) for x in b]
        assert sum(x.params for x in b) < 0.6 * sum(x.params for x in a)
        assert kb.model_meta('resnet20-w50')['narrowed'] == dict(of='resnet20', keep=0.5, groups=9)
    for bad, says in (('0', 'above 0 and below 1'), ('1', 'above 0 and below 1'), ('half', 'comma-separated')):
        r = cli('modulenas-build-kb', '--out', tmp_path / 'kb2', '--models', 'resnet20', '--widths', bad)
        assert r.returncode == 2 and says in r.stderr and not (tmp_path / 'kb2').exists(), r.stderr


def test_a_narrowed_network_is_scored_with_its_batchnorm_re_estimated(tmp_path, zoo_dir, cli):
    "Its statistics were measured with every channel there: the evaluator re-estimates them from its first narrowed module on."
    from modulenas.core import shared_dir
    if not (shared_dir() / 'data' / 'cifar10-jpg.tar.gz').exists():
        import pytest; pytest.skip('CIFAR-10 archive not found: set MODULENAS_SHARED to a folder holding data/ (see README)')
    from modulenas.arch import from_parent
    from modulenas.data import get_splits
    from modulenas.evaluate import EvalConfig, Evaluator
    out = tmp_path / 'kb'
    assert cli('modulenas-build-kb', '--out', out, '--models', 'resnet20', '--widths', '0.75').returncode == 0
    data = get_splits('cifar10', n_calib=500, n_val=500, seed=0, protocol='test-half')
    with KnowledgeBase(out) as kb:
        r = Evaluator(kb, data, EvalConfig(n_calib=500), 'cpu').evaluate(from_parent(kb, 'resnet20-w75'))
        assert r.acc_stitched > r.acc_raw + 0.15, (r.acc_raw, r.acc_stitched)  # 0.32 -> 0.65 measured on 2,000 images
