"""tools/analysis_tools/plot_sampling_probs.py (PGD Fig. 14) and the PGD
rows of tools/analysis_tools/bias_detection.py on a tiny PGD run."""
import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from debiascls.evaluation.bias_detection import PGD_SET_NAMES
from debiascls.utils import ConfigError
from debiascls.apis.run_files import (build_split_dataset,
                                               load_config)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] /
                       'test_visualization'))
from tiny_vis_runs import (config, load_tool, make_synth_digits,  # noqa: E402
                           synth_options, train)


@pytest.fixture(scope='module')
def pgd_run(tmp_path_factory):
    """PGD of 8 iterations: step 2 (scores, p_s) after iteration 4."""
    root = make_synth_digits(str(tmp_path_factory.mktemp('synth')))
    work = tmp_path_factory.mktemp('pgd')
    options = synth_options(root)
    train(config('pgd'), work, options)
    return work, options


def test_mean_p_s_per_cell(pgd_run):
    work, options = pgd_run
    tool = load_tool('analysis_tools/plot_sampling_probs.py')
    result = tool.main([config('pgd'), str(work), '--cfg-options', *options])
    out = work / 'analysis' / 'sampling_probs'
    assert cv2.imread(str(out.with_suffix('.png'))).shape == (650, 1500, 3)
    # by hand from the scores file and the training labels
    prob = np.load(work / 'pgd_scores.npz')['sampling_prob']
    dataset = build_split_dataset(load_config(config('pgd'), dict(
        o.split('=', 1) for o in options)), 'train')
    gt, bias = dataset.get_gt_labels(), dataset.get_bias_labels()
    saved = json.loads(out.with_suffix('.json').read_text())
    assert saved['classes'] == list(dataset.metainfo['classes'])
    for c in range(10):
        for b in range(10):
            members = prob[(gt == c) & (bias == b)]
            assert saved['count'][c][b] == members.size
            if members.size:
                assert saved['mean'][c][b] == pytest.approx(members.mean())
                assert saved['share'][c][b] == pytest.approx(
                    100 * members.sum() / prob.sum())
            else:
                assert saved['mean'][c][b] is None
    assert np.nansum(result['share']) == pytest.approx(100)
    with open(out.with_suffix('.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 100 and sum(int(r['count']) for r in rows) == 200


def test_pgd_rows_of_the_bias_detection_table(pgd_run, tmp_path, capsys):
    work, options = pgd_run
    tool = load_tool('analysis_tools/bias_detection.py')
    first = tmp_path / 'ckpt.json'
    tool.main([config('pgd'), str(work / 'iter_8.pth'), '--json', str(first),
               '--cfg-options', *options])
    printed = capsys.readouterr().out
    assert f'| {PGD_SET_NAMES[0]} |' in printed
    from_ckpt = json.loads(first.read_text())
    second = tmp_path / 'npz.json'
    tool.main([config('pgd'), str(work / 'iter_8.pth'), '--pgd-scores',
               str(work / 'pgd_scores.npz'), '--json', str(second),
               '--cfg-options', *options])
    from_npz = json.loads(second.read_text())
    assert from_npz['pgd_scores'].endswith('pgd_scores.npz')
    # by hand: p_s above its mean, and the 10 (= #BC) highest (ties to the
    # lower index), from the checkpoint's float32 table and from the npz's
    # float64 values (p_s below 1e-45 ties at 0 in float32)
    from debiascls.engine.checkpoint import safe_torch_load
    dataset = build_split_dataset(load_config(config('pgd'), dict(
        o.split('=', 1) for o in options)), 'train')
    conflicting = dataset.get_conflicting_mask()
    table = safe_torch_load(str(work / 'iter_8.pth'))['state_dict'][
        'per_sample.sampling_prob'].numpy().astype(np.float64)
    for saved, prob in ((from_ckpt, table),
                        (from_npz, np.load(work / 'pgd_scores.npz')[
                            'sampling_prob'])):
        above = prob > prob.mean()
        row = saved['sets'][PGD_SET_NAMES[0]]
        assert row['size'] == above.sum()
        assert row['conflicting'] == (above & conflicting).sum()
        top = np.argsort(-prob, kind='stable')[:10]
        row = saved['sets'][PGD_SET_NAMES[1]]
        assert row['size'] == 10
        assert row['conflicting'] == conflicting[top].sum()
        assert row['conflicting_fraction'] == row['conflicting_recall']
    # before step 2 there are no scores: no PGD rows, and nothing else
    with pytest.raises(ConfigError, match='sampling_prob'):
        tool.main([config('pgd'), str(work / 'iter_2.pth'),
                   '--cfg-options', *options])
    assert 'has not scored the samples yet' in capsys.readouterr().out


def test_missing_scores_are_named(tmp_path):
    tool = load_tool('analysis_tools/plot_sampling_probs.py')
    with pytest.raises(FileNotFoundError, match='bias_iters'):
        tool.main([config('pgd'), str(tmp_path)])
