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
