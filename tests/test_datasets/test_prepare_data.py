"""tools/data/prepare_data.py: a few runs as a subprocess (exit status,
one-line errors), the rest in-process (a subprocess costs ~3 s of imports).
All on fake MNIST files."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest

from debiascls.datasets import BiasedMNIST, ColoredMNIST, SynthDigits

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'data', 'prepare_data.py')


def _run(*args, cwd):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('prepare_data_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def call(tool, capsys, monkeypatch, tmp_path):
    """Run the tool's main in-process in tmp_path: (status, stdout,
    stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args):
        status = tool.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


# ---------------------------------------------------------------------- #
# As a subprocess
# ---------------------------------------------------------------------- #
def test_cmnist_subprocess(tmp_path, t10k_root):
    out = tmp_path / 'cm'
    res = _run('cmnist', '--mnist-root', t10k_root, '--out', out,
               '--severities', '1pct', '5pct', '--seed', 3, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ''
    assert f'wrote   {out / "5pct"}: train 140 samples' in res.stdout
    assert f'wrote   {out / "test"}: test 40 samples' in res.stdout
    assert 'test-only MNIST' in res.stdout and 'Done in' in res.stdout
    assert sorted(os.listdir(out)) == ['1pct', '5pct', 'test']
    meta = json.loads((out / '5pct' / 'meta.json').read_text())
    assert meta['seed'] == 3 and meta['color_std'] == 0.005
    # the dataset reads what the tool wrote, without MNIST
    ds = ColoredMNIST(str(out), severity='5pct', split='train', seed=3)
    n_conf = int(ds.get_conflicting_mask().sum())
    assert n_conf == meta['train']['num_conflicting']
    assert (f'train 140 samples ({140 - n_conf} aligned, {n_conf} '
            'conflicting)') in res.stdout


def test_missing_mnist_subprocess_one_line_error(tmp_path):
    res = _run('cmnist', '--out', tmp_path / 'cm', cwd=tmp_path)
    assert res.returncode == 1 and res.stdout.count('\n') == 1
    assert res.stderr.startswith('error: ') and res.stderr.count('\n') == 1
    assert 'Traceback' not in res.stderr
    assert 'mnist_root="data/mnist" does not exist' in res.stderr
    assert 't10k-images-idx3-ubyte.gz' in res.stderr
    assert not (tmp_path / 'cm').exists()


def test_biased_mnist_subprocess(tmp_path, t10k_root):
    out = tmp_path / 'bm'
    res = _run('biased_mnist', '--mnist-root', t10k_root, '--out', out,
               '--rho', 0.99, 0.997, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(out)) == ['rho0.997_seed0', 'rho0.99_seed0']
    assert sorted(os.listdir(out / 'rho0.99_seed0')) == [
        'meta.json', 'test_biased.npz', 'test_unbiased.npz', 'train.npz',
        'valid.npz'
    ]
    assert 'test_biased: 40 samples (40 aligned, 0 conflicting)' in \
        res.stdout
    ds = BiasedMNIST(str(out), rho=0.997, split='train')
    aligned = int(ds.get_aligned_mask().sum())
    assert f'train: 140 samples ({aligned} aligned' in res.stdout


def test_synthdigits_default_sizes_subprocess(tmp_path):
    """Default sizes (12,000 / 2,000 / 3,000 digits), one severity."""
    res = _run('synthdigits', '--severities', '1pct', cwd=tmp_path)
    try:
        assert res.returncode == 0, res.stderr
        data_root = tmp_path / 'data' / 'synthdigits'
        assert os.listdir(data_root) == ['seed0']
        assert sorted(os.listdir(data_root / 'seed0')) == ['1pct', 'test']
        assert ('train 12000 samples (11880 aligned, 120 conflicting); '
                'valid 2000 samples (1980 aligned, 20 conflicting)') in \
            res.stdout
        assert 'test 3000 samples (300 aligned, 2700 conflicting)' in \
            res.stdout
        ds = SynthDigits(str(data_root), severity='1pct', split='test')
        cells = np.zeros((10, 10), int)
        np.add.at(cells, (ds.get_gt_labels(), ds.get_bias_labels()), 1)
        assert (cells == 30).all()
    finally:
        shutil.rmtree(tmp_path / 'data', ignore_errors=True)  # ~60 MB


# ---------------------------------------------------------------------- #
# In-process
# ---------------------------------------------------------------------- #
def test_cmnist_keeps_and_checks_existing_folders(call, tmp_path, t10k_root):
    args = ('cmnist', '--mnist-root', t10k_root, '--out', 'cm',
            '--severities', '2pct')
    status, out, _ = call(*args)
    assert status == 0 and 'wrote   cm/2pct: train 140 samples' in out
    status, out, err = call(*args)
    assert status == 0 and err == ''
    assert 'kept    cm/2pct (exists)' in out
    assert 'kept    cm/test (exists)' in out and 'wrote' not in out
    status, out, err = call(*args, '--color-std', 0.02)
    assert status == 1 and err.count('\n') == 1
    assert err.startswith('error: prepare_data.py cmnist: "cm/2pct" was '
                          'generated with other parameters (color_std=0.005 '
                          'on disk but 0.02 requested')
    status, _, err = call('cmnist', '--mnist-root', t10k_root, '--out', 'cm',
                          '--severities', '5pct', '--split-fractions', 0.5,
                          0.5, 0.5)
    assert status == 1 and not (tmp_path / 'cm' / '5pct').exists()
    assert err.startswith('error: split_fractions=(0.5, 0.5, 0.5) must be')


def test_biased_mnist_defaults_keep_and_errors(call, tmp_path, t10k_root):
    status, out, _ = call('biased_mnist', '--mnist-root', t10k_root,
                          '--rho', 0.995)
    assert status == 0
    assert 'wrote   data/biased_mnist/rho0.995_seed0 from test-only' in out
    # default rhos: the four of ReBias, the existing one kept
    status, out, _ = call('biased_mnist', '--mnist-root', t10k_root)
    assert status == 0
    assert 'kept    data/biased_mnist/rho0.995_seed0 (exists)' in out
    assert sorted(os.listdir(tmp_path / 'data' / 'biased_mnist')) == [
        'rho0.995_seed0', 'rho0.997_seed0', 'rho0.999_seed0', 'rho0.99_seed0'
    ]
    status, _, err = call('biased_mnist', '--mnist-root', t10k_root,
                          '--rho', 0.99, '--split-fractions', 0.6, 0.2, 0.2)
    assert status == 1
    assert 'split_fractions=[0.7, 0.1, 0.2] on disk but [0.6, 0.2, 0.2]' \
        in err
    status, _, err = call('biased_mnist', '--mnist-root', t10k_root,
                          '--rho', 1.5)
    assert status == 1
    assert err == ('error: rho=1.5 must be in [0, 1] (ReBias trains with '
                   '(0.99, 0.995, 0.997, 0.999)).\n')


def test_synthdigits_small_sizes(call, tmp_path):
    status, out, _ = call('synthdigits', '--out', 'sd', '--seed', 2,
                          '--severities', '5pct', 'unbiased', '--train-size',
                          40, '--valid-size', 20, '--test-per-cell', 1)
    assert status == 0
    assert sorted(os.listdir(tmp_path / 'sd' / 'seed2_n40-20-1')) == [
        '5pct', 'test', 'unbiased'
    ]
    assert out.splitlines()[0] == 'SynthDigits, seed 2, into sd/seed2_n40-20-1'
    # 4 digits per class: 5pct rounds 0.2 to 0, unbiased 3.6 to 4
    assert ('wrote   sd/seed2_n40-20-1/5pct: train 40 samples (40 aligned, '
            '0 conflicting)') in out
    assert ('wrote   sd/seed2_n40-20-1/unbiased: train 40 samples (0 '
            'aligned, 40 conflicting)') in out
    status, out, _ = call('synthdigits', '--out', 'sd', '--seed', 2,
                          '--severities', '5pct', '--train-size', 40,
                          '--valid-size', 20, '--test-per-cell', 1)
    assert status == 0 and 'kept    sd/seed2_n40-20-1/5pct (exists)' in out
    status, _, err = call('synthdigits', '--train-size', 5)
    assert status == 1 and 'train_size and valid_size >= 10' in err


@pytest.mark.parametrize('argv,message', [
    ([], 'required'),
    (['mnist'], "invalid choice: 'mnist'"),
    (['synthdigits', '--severities', '3pct'], "invalid choice: '3pct'"),
    (['cmnist', '--severities', 'unbiased'], "invalid choice: 'unbiased'"),
])
def test_bad_command_lines(call, capsys, tmp_path, argv, message):
    with pytest.raises(SystemExit) as e:
        call(*argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert 'usage:' in err and message in err
    assert not (tmp_path / 'data').exists()
