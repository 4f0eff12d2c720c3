"""tools/analysis_tools/plot_bn_scores.py (IE Fig. 2) and tsne.py
(CosFairNet Fig. 3) on a tiny IE run."""
import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from debiascls.engine.checkpoint import safe_torch_load
from debiascls.apis.run_files import (build_split_dataset,
                                               load_config)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] /
                       'test_visualization'))
from tiny_vis_runs import (IE_OPTIONS, config, load_tool,  # noqa: E402
                           make_synth_digits, synth_options, train)


@pytest.fixture(scope='module')
def ie_run(tmp_path_factory):
    root = make_synth_digits(str(tmp_path_factory.mktemp('synth')))
    work = tmp_path_factory.mktemp('ie')
    train(config('ie'), work, synth_options(root) + IE_OPTIONS)
    return work


def _shape(path):
    return cv2.imread(str(path)).shape


def test_bn_scores_per_group_and_checkpoint(ie_run, capsys):
    tool = load_tool('analysis_tools/plot_bn_scores.py')
    result = tool.main([str(ie_run)])
    out = ie_run / 'analysis' / 'bn_scores'
    assert _shape(out.with_suffix('.png')) == (400, 600, 3)
    assert 'iter 8: aligned' in capsys.readouterr().out
    saved = json.loads(out.with_suffix('.json').read_text())
    assert saved['population'] == 'candidate'
    curve = saved['curve']
    assert [row['iter'] for row in curve] == [2, 4, 6, 8]
    # recomputed from the checkpoints' tables and the true bias labels
    cfg = load_config(str(ie_run / 'ie_synthdigits_1pct.py'))
    dataset = build_split_dataset(cfg, 'train')
    conflicting = dataset.get_conflicting_mask()
    assert conflicting.sum() == 10
    for row in curve:
        state = safe_torch_load(str(ie_run / f"iter_{row['iter']}.pth"))
        state = state['state_dict']
        score = state['per_sample.bn_score'].numpy()
        candidate = state['per_sample.bn_candidate'].numpy()
        for group, mask in (('aligned', ~conflicting),
                            ('conflicting', conflicting)):
            members = score[candidate & mask]
            assert row[group]['n'] == members.size
            assert row[group]['mean'] == pytest.approx(members.mean(),
                                                       abs=1e-9)
            assert row[group]['std'] == pytest.approx(members.std(),
                                                      abs=1e-9)
    # from T1 on, samples seen twice have non-zero scores by the end
    assert curve[-1]['aligned']['std'] > 0
    with open(out.with_suffix('.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [int(r['iter']) for r in rows] == [2, 4, 6, 8]
    assert float(rows[-1]['conflicting_mean']) == pytest.approx(
        curve[-1]['conflicting']['mean'])
    # all training samples instead of D_cand^BN, to another file
    other = ie_run / 'all.png'
    result = tool.main([str(ie_run), '--population', 'all', '--out',
                        str(other)])
    assert other.is_file() and result['population'] == 'all'
    assert result['curve'][-1]['aligned']['n'] == 190


def test_bn_scores_need_checkpoints(tmp_path):
    (tmp_path / 'ie.py').write_text('x = 1\n')
    tool = load_tool('analysis_tools/plot_bn_scores.py')
    with pytest.raises(FileNotFoundError, match='max_keep_ckpts=-1'):
        tool.main([str(tmp_path)])


def test_tsne_of_both_models(ie_run):
    tool = load_tool('analysis_tools/tsne.py')
    out = ie_run / 'tsne' / 'test.png'
    result = tool.main([str(ie_run / 'ie_synthdigits_1pct.py'),
                        str(ie_run / 'iter_8.pth'), '--max-samples', '50',
                        '--out', str(out)])
    assert result['num_samples'] == 50
    assert result['models'] == dict(biased=dict(feature_dim=32),
                                    debiased=dict(feature_dim=32))
    # one row of two panels per model
    assert _shape(out) == (840, 1000, 3)
    with open(out.with_suffix('.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 50
    by_model = {m: [r for r in rows if r['model'] == m]
                for m in ('biased', 'debiased')}
    # the same 50 test samples for both models, with their labels
    dataset = build_split_dataset(
        load_config(str(ie_run / 'ie_synthdigits_1pct.py')), 'test')
    for model_rows in by_model.values():
        idx = [int(r['sample_idx']) for r in model_rows]
        assert idx == sorted(idx) and len(set(idx)) == 50
        assert [int(r['gt_label']) for r in model_rows] == \
            dataset.get_gt_labels()[idx].tolist()
        assert [int(r['bias_label']) for r in model_rows] == \
            dataset.get_bias_labels()[idx].tolist()
        assert np.isfinite([float(r['x']) for r in model_rows]).all()
    assert [r['sample_idx'] for r in by_model['biased']] == \
        [r['sample_idx'] for r in by_model['debiased']]
