import os, shutil, sys
from pathlib import Path

import pytest

from modulenas.core import shared_dir


@pytest.fixture(scope='session')
def zoo_dir() -> Path:
    "The folder of pretrained zoo weights; tests that need it skip when it is absent."
    d = shared_dir()
    if d is None or not any((d / 'zoo').glob('resnet*.th')):
        pytest.skip('pretrained zoo weights not found: set MODULENAS_SHARED to a folder holding zoo/ (see README)')
    return d / 'zoo'


@pytest.fixture(scope='session')
def cli():
    "A function running a console script of this package; returns the CompletedProcess."
    import subprocess

    def run(name, *args, env=None, timeout=600):
        exe = shutil.which(name) or str(Path(sys.executable).parent / name)
        if not Path(exe).exists(): pytest.fail(f'console script {name} is not installed (pip install -e .)')
        return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
    return run


@pytest.fixture(scope='session')
def kb(zoo_dir, cli, tmp_path_factory):
    "A knowledge base of ResNet-20 and ResNet-32 built by modulenas-build-kb; skips without the CIFAR-10 archive."
    if not (shared_dir() / 'data' / 'cifar10-jpg.tar.gz').exists():
        pytest.skip('CIFAR-10 archive not found: set MODULENAS_SHARED to a folder holding data/ (see README)')
    out = tmp_path_factory.mktemp('kb') / 'kb'
    r = cli('modulenas-build-kb', '--out', out, '--models', 'resnet[23]?')
    assert r.returncode == 0, r.stderr
    return out
