"""Bad input through the tools: one clear error line, no training."""
import glob
import os
import shutil

import pytest
import torch

from tiny_run import CONFIG, REPO, python_tool, run_tool, tiny_options

CMNIST = str(REPO / 'configs/methods/vanilla_cmnist_1pct.py')


def _fails(args, *needles):
    proc = run_tool(args, REPO, check=False)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith('error: '), proc.stderr[-2000:]
    for needle in needles:
        assert needle in err, (needle, err)
    assert 'Iter(train)' not in proc.stdout + proc.stderr
    return err


def test_unknown_config_key_names_it_and_the_fix(tmp_path):
    _fails(
        python_tool('train.py', CONFIG, '--work-dir', str(tmp_path),
                    '--cfg-options', 'trian_cfg.max_iters=3'),
        '"trian_cfg"', 'Did you mean "train_cfg"')


def test_unknown_method_name_suggests_the_closest(tmp_path):
    _fails(
        python_tool('train.py', CONFIG, '--work-dir', str(tmp_path),
                    '--cfg-options', 'model.type=Vanila'),
        'model.type', '"Vanila"', 'Did you mean "Vanilla"')


def test_missing_mnist_says_what_to_put_where(tmp_path):
    missing = tmp_path / 'no_mnist'
    _fails(
        python_tool('train.py', CMNIST, '--work-dir', str(tmp_path / 'w'),
                    '--cfg-options', f'mnist_root={missing}',
                    f'data_root={tmp_path}/cmnist'),
        str(missing), 't10k-images-idx3-ubyte')
    # Nothing half-written is left behind.
    assert not glob.glob(str(tmp_path / 'cmnist' / '*'))


def test_truncated_image_is_named(tmp_path, tiny_data):
    data = tmp_path / 'data'
    shutil.copytree(tiny_data, data)
    victim = sorted(glob.glob(str(data / '*' / '5pct' / 'align' / '3' /
                                  '*.png')))[0]
    size = os.path.getsize(victim)
    with open(victim, 'r+b') as f:
        f.truncate(size // 2)
    _fails(
        python_tool('train.py', CONFIG, '--work-dir', str(tmp_path / 'w'),
                    '--cfg-options', *tiny_options(str(data))),
        os.path.basename(victim), 'truncated')


def test_missing_and_unsafe_checkpoints_are_refused(tmp_path, tiny_data):
    opts = tiny_options(tiny_data)
    _fails(
        python_tool('test.py', CONFIG, str(tmp_path / 'nope.pth'),
                    '--work-dir', str(tmp_path), '--cfg-options', *opts),
        'nope.pth')
    unsafe = tmp_path / 'unsafe.pth'
    torch.save({'state_dict': {}, 'meta': {'hook': _Payload()}}, unsafe)
    _fails(
        python_tool('test.py', CONFIG, str(unsafe), '--work-dir',
                    str(tmp_path), '--cfg-options', *opts), 'unsafe.pth')


class _Payload:
    """An arbitrary object that a weights-only load must refuse."""


def test_amp_without_a_gpu_says_so(tmp_path):
    if torch.cuda.is_available():
        pytest.skip('this machine has a GPU: --amp is allowed')
    _fails(
        python_tool('train.py', CONFIG, '--amp', '--work-dir', str(tmp_path)),
        '--amp needs a GPU')
