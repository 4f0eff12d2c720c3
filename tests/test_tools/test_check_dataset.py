"""tools/data/check_dataset.py: (class, bias) counts of a tiny SynthDigits,
what it generated, unknown biases and label noise, and the dataset's own
error on a wrong layout."""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from debiascls.datasets.base_dataset import BaseBiasDataset
from debiascls.utils import ConfigError
from tool_helpers import CONFIG, REPO, load_tool, tiny_options

check = load_tool('data/check_dataset.py', 'check_dataset')


def _section(out, split):
    """The lines printed for ``split``."""
    start = out.index(f'== {split}:')
    end = out.find('\n== ', start + 1)
    return out[start:end if end > 0 else None]


def _row(section, name):
    line = next(l for l in section.splitlines() if l.split()[0] == name)
    return line.split()[1:]


def test_counts_of_a_tiny_synthdigits_and_what_was_generated(
        tmp_path, capsys):
    root = str(tmp_path / 'synth')
    check.main([CONFIG, '--cfg-options', *tiny_options(root)])
    out = capsys.readouterr().out
    # nothing existed: the train split generated the 5pct folder and the
    # test folder, and says so with their meta.json
    assert re.search(
        rf'\[train\] generated "{root}": seed0_n40-100-1/5pct/meta.json '
        r'\(generator=SynthDigits, severity=5pct, seed=0; train: 40 samples, '
        r'valid: 100 samples\); seed0_n40-100-1/test/meta.json', out)
    assert f'[valid] read from "{root}" (nothing generated)' in out

    valid = _section(out, 'valid')
    assert ('SynthDigits, 100 samples, 10 classes x 10 color values'
            in valid)
    header = next(l for l in valid.splitlines() if l.startswith('class'))
    assert header.split()[3:6] == ['red-orange', 'yellow', 'mauve']
    # 10 digits per class, round(0.05 * 10) = 1 of them conflicting
    for c in range(10):
        row = _row(valid, str(c))
        assert row[c] == '9*' and row[-1] == '10'
        assert sum(int(n.rstrip('*')) for n in row[:-1]) == 10
    assert _row(valid, 'total')[-1] == '100'
    assert 'aligned: 90, conflicting: 10, unknown color: 0' in valid
    assert 'bias-conflicting ratio: 10.00 % (10 of 100 with a known color)' \
        in valid
    # test: exactly one digit per (class, colour) cell
    test = _section(out, 'test')
    assert all(_row(test, str(c)) == ['1*' if b == c else '1'
                                      for b in range(10)] + ['10']
               for c in range(10))
    assert 'bias-conflicting ratio: 90.00 %' in test
    # train: 4 per class, round(0.05 * 4) = 0 conflicting
    assert 'aligned: 40, conflicting: 0' in _section(out, 'train')

    check.main([CONFIG, '--splits', 'test', '--cfg-options',
                *tiny_options(root)])
    out = capsys.readouterr().out
    assert f'[test] read from "{root}" (nothing generated)' in out
    assert '== train' not in out and '== valid' not in out


class _InMemory(BaseBiasDataset):
    METAINFO = dict(classes=('cat', 'dog'), bias_attribute='place',
                    bias_classes=('in', 'out'))

    def load_data_list(self):
        img = np.zeros((2, 2, 3), np.uint8)
        labels = [(0, 0), (0, 0), (0, 1), (1, 1), (1, -1), (1, -1), (0, -1)]
        return [dict(img=img, gt_label=t, bias_label=b) for t, b in labels]


def test_unknown_bias_and_label_noise_are_reported():
    text = check.describe('train', _InMemory())
    assert _row(text, 'cat') == ['2*', '1', '1', '4']
    assert _row(text, 'dog') == ['0', '1*', '2', '3']
    assert _row(text, 'total') == ['2', '2', '3', '7']
    assert 'aligned: 3, conflicting: 1, unknown place: 3' in text
    assert 'bias-conflicting ratio: 25.00 % (1 of 4 with a known place)' \
        in text
    noisy = check.describe('train', _InMemory(label_noise=0.3))
    # round(0.3 * 7) = 2 labels flipped
    assert 'label noise: 2 labels flipped' in noisy


def test_a_wrong_layout_ends_with_the_dataset_error(tiny_synth, tmp_path):
    root = str(tmp_path / 'broken')
    shutil.copytree(tiny_synth, root)
    shutil.rmtree(os.path.join(root, 'seed0_n40-100-1', '5pct', 'valid'))
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools/data/check_dataset.py'),
         CONFIG, '--splits', 'test', 'valid', '--cfg-options',
         *tiny_options(root)], capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    folder = os.path.join(root, 'seed0_n40-100-1', '5pct')
    assert proc.stderr.strip() == (
        f'error: SynthDigits (valid split, severity "5pct"): "{folder}" is '
        f'incomplete (no {folder}/valid). Delete it to regenerate it.')
    assert '== test: SynthDigits, 100 samples' in proc.stdout
    # nothing was generated to paper over it
    assert not os.path.exists(os.path.join(folder, 'valid'))


def test_an_unknown_split_is_named(tmp_path, capsys):
    with pytest.raises(ConfigError, match='no such split; its splits: '
                       'train, valid, test'):
        check.main([CONFIG, '--splits', 'valid', 'holdout', '--cfg-options',
                    *tiny_options(str(tmp_path))])
