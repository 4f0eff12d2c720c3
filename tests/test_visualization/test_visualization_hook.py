"""BiasVisualizationHook through the real tools: a tiny IE run, then
``tools/test.py --show-dir`` draws Grad-CAM overlays of both models, IE's
Figure 3 and the accuracy heat-maps; the drawn maps are Grad-CAM and IE's
equations recomputed on the same samples."""
import collections

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from debiascls.engine.checkpoint import safe_torch_load
from debiascls.engine.hooks import BiasVisualizationHook
from debiascls.models.algorithms.ie import (common_feature_score, ie_weight,
                                            relative_exploitation_score)
from debiascls.models.utils import gap_linear_grad_cam, grad_cam
from debiascls.registry import MODELS
from debiascls.utils import ConfigError
from debiascls.visualization import heat_overlay
from debiascls.visualization.gradcam_overlay import upscale
from debiascls.apis.run_files import (build_split_dataset,
                                               load_config)

from tiny_vis_runs import (IE_OPTIONS, REPO, config, make_synth_digits,
                           python_tool, run_tool, synth_options, train)

PER_CELL = 2
SIZE = 64  # image_size of the drawings (28x28 digits enlarged)
CAPTION = 15  # px per caption line (+ 4 px per band)


@pytest.fixture(scope='module')
def shown(tmp_path_factory):
    """An IE run of 8 iterations and tools/test.py --show-dir on its last
    checkpoint, drawing the valid split (biased like the training set: full
    aligned cells, conflicting cells of one sample, empty cells)."""
    root = make_synth_digits(str(tmp_path_factory.mktemp('synth')))
    work = tmp_path_factory.mktemp('ie')
    options = synth_options(root) + IE_OPTIONS
    train(config('ie'), work, options)
    out = tmp_path_factory.mktemp('test')
    run_tool(python_tool(
        'test.py', config('ie'), str(work / 'iter_8.pth'), '--work-dir',
        str(out), '--show-dir', 'vis', '--cfg-options', *options,
        'default_hooks.visualization.cam_split=valid',
        f'default_hooks.visualization.samples_per_cell={PER_CELL}',
        f'default_hooks.visualization.image_size={SIZE}'), REPO)
    cfg = load_config(str(work / 'ie_synthdigits_1pct.py'))
    algorithm = MODELS.build(
        dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    algorithm.load_state_dict(
        safe_torch_load(str(work / 'iter_8.pth'))['state_dict'])
    algorithm.eval()
    return dict(out=out, vis=out / 'vis', cfg=cfg, algorithm=algorithm,
                valid=build_split_dataset(cfg, 'valid'))


def _expected_stems(dataset):
    """The lowest PER_CELL indices of every non-empty (class, bias) cell."""
    cells = collections.defaultdict(list)
    for i, (g, b) in enumerate(zip(dataset.get_gt_labels(),
                                   dataset.get_bias_labels())):
        cells[(int(g), int(b))].append(i)
    # the split exercises the cap, single-sample cells and empty cells
    sizes = [len(v) for v in cells.values()]
    assert max(sizes) > PER_CELL and min(sizes) == 1 and len(cells) < 100
    stems = {f'valid_c{g}_b{b}_idx{i}'
             for (g, b), members in cells.items()
             for i in sorted(members)[:PER_CELL]}
    assert len(stems) == sum(min(PER_CELL, n) for n in sizes)
    return stems


def _rgb(path):
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image[..., ::-1]


def test_files_counts_and_sizes(shown):
    vis, stems = shown['vis'], _expected_stems(shown['valid'])
    # accuracy heat-maps of both models and splits (10 x 10 cells)
    for split in ('test', 'valid'):
        for model in ('main_model', 'biased'):
            heat = _rgb(vis / f'{split}_{model}_cell_acc.png')
            assert heat.shape == (650, 750, 3)
    # overlays of both models: per-cell count x non-empty cells
    for model in ('debiased', 'biased'):
        files = sorted((vis / 'gradcam' / model).glob('*.png'))
        assert {f.stem for f in files} == stems
        for f in files[:3]:  # image | overlay under 3 caption lines
            assert _rgb(f).shape == (3 * CAPTION + 4 + SIZE, 2 * SIZE + 4, 3)
    # IE Figure 3: every sample has a pair (D_cand^BN is the whole set here)
    figures = sorted((vis / 'ie_pairs').glob('*.png'))
    assert {f.stem for f in figures} == stems
    # 5 captioned panels under 2 caption lines
    assert _rgb(figures[0]).shape == (2 * CAPTION + 4 + CAPTION + 4 + SIZE,
                                      5 * SIZE + 4 * 4, 3)
    # the same images went to the visualizer's backends
    local = next(shown['out'].glob('*/vis_data/vis_image'))
    for model in ('debiased', 'biased'):
        assert len(list(local.glob(f'gradcam_{model}_valid_*.png'))) == len(
            stems)
    assert len(list(local.glob('ie_pairs_valid_*.png'))) == len(stems)
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    events = EventAccumulator(str(local.parent),
                              size_guidance={'images': 0}).Reload()
    tags = set(events.Tags()['images'])
    assert {f'gradcam_debiased_{s}' for s in stems} <= tags
    assert 'valid_main_model_cell_acc' in tags


def _sample(dataset, algorithm, index):
    batch = default_collate([dataset[int(index)]])
    return batch['inputs'], algorithm.data_preprocessor(batch, False)


@pytest.mark.parametrize('model', ['debiased', 'biased'])
def test_overlay_is_grad_cam_of_the_sample(shown, model):
    algorithm, dataset = shown['algorithm'], shown['valid']
    maps = np.load(shown['vis'] / 'gradcam' / model / 'valid_maps.npz')
    order = np.lexsort((maps['sample_idx'], maps['bias_label'],
                        maps['gt_label']))
    assert (order == np.arange(len(order))).all()  # in (class, bias) order
    classifier = algorithm.models[model]
    for j in (0, len(maps['sample_idx']) - 1):
        index = int(maps['sample_idx'][j])
        raw, data = _sample(dataset, algorithm, index)
        assert int(data['data_samples']['gt_label']) == maps['gt_label'][j]
        feats = classifier.extract_feat(data['inputs']).detach()
        pred = classifier.head(feats).argmax(dim=1)
        assert int(pred) == maps['pred_label'][j] == maps['target_label'][j]
        cam = grad_cam(feats, classifier.head, pred)[0].detach().numpy()
        np.testing.assert_allclose(maps['cam'][j], cam, atol=1e-5)
        # the right panel of the PNG is this map over the enlarged image
        image = upscale(raw[0].permute(1, 2, 0).numpy(), SIZE)
        png = _rgb(shown['vis'] / 'gradcam' / model /
                   f"valid_c{maps['gt_label'][j]}_b{maps['bias_label'][j]}"
                   f'_idx{index}.png')
        assert np.array_equal(png[-SIZE:, -SIZE:],
                              heat_overlay(image, maps['cam'][j]))
        assert np.array_equal(png[-SIZE:, :SIZE], image)


def test_ie_figure_follows_equations_4_to_6(shown):
    algorithm, cfg = shown['algorithm'], shown['cfg']
    maps = np.load(shown['vis'] / 'ie_pairs' / 'valid_maps.npz')
    train_set = build_split_dataset(
        cfg, 'train', cfg.test_dataloader.dataset.pipeline)
    state = algorithm.per_sample
    members = state.get('bn_candidate') & (state.get('bn_score') > 0)
    f_d = algorithm.models['debiased']
    for j in range(0, len(maps['sample_idx']), 7):
        pair = int(maps['pair_idx'][j])
        gt = torch.tensor([int(maps['gt_label'][j])])
        # x^BN: a training sample of x's class, from D^BN unless it has none
        assert train_set.get_gt_labels()[pair] == gt.item()
        assert bool(maps['from_candidate'][j]) == (not bool(members[pair]))
        assert maps['bn_score'][j] == pytest.approx(
            float(state.get('bn_score')[pair]))
        _, x = _sample(shown['valid'], algorithm, maps['sample_idx'][j])
        _, x_bn = _sample(train_set, algorithm, pair)
        with torch.no_grad():
            z = f_d.extract_feat(x['inputs'])
            z_bn = f_d.extract_feat(x_bn['inputs'])
            e_z = gap_linear_grad_cam(z, f_d.head.fc.weight, gt)
            e_bn = gap_linear_grad_cam(z_bn, f_d.head.fc.weight, gt)
            c, i_star = common_feature_score(z, z_bn)
            r = relative_exploitation_score(e_z, e_bn, i_star, algorithm.tau)
            weight = ie_weight(c, r)
        for key, value in dict(e_z=e_z, e_bn=e_bn, c=c, r=r,
                               ie=weight).items():
            np.testing.assert_allclose(maps[key][j], value[0].numpy(),
                                       atol=1e-5, err_msg=key)


class _Split:
    def __init__(self, name):
        self.name = name


class _Loop:
    splits = [_Split('test'), _Split('valid')]


class _VideoNet(torch.nn.Module):
    head = torch.nn.Identity()

    def extract_feat(self, inputs):
        return torch.zeros(inputs.shape[0], 2, 3, 4, 4)  # (B, C, t, h, w)


def test_bad_settings_are_named_and_video_maps_are_left_out():
    with pytest.raises(ConfigError, match='cam_target'):
        BiasVisualizationHook(cam_target='logits')
    with pytest.raises(ConfigError, match='samples_per_cell'):
        BiasVisualizationHook(samples_per_cell=-1)
    hook = BiasVisualizationHook(cam_split='train')
    with pytest.raises(ConfigError, match=r"cam_split=\"train\".*'test', "
                       r"'valid'"):
        hook._split(_Loop())
    assert BiasVisualizationHook()._split(_Loop()).name == 'test'
    # a (B, C, t, h, w) map is not drawn (the hook logs a note instead)
    net = _VideoNet()
    assert hook._grad_cam(net.extract_feat(torch.zeros(2, 3, 8, 8)),
                          net.head, torch.zeros(2, dtype=torch.long)) is None
