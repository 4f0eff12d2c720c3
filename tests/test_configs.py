"""Every shipped config: valid keys and types, and a model that runs."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from debiascls.apis import check_before_build, prepare_config
from debiascls.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'methods', '*.py')))
#: (model config, preprocessor, input size) already built and run.
_BUILT: set = set()
#: Input size of each data set's images.
INPUT_SIZE = {'SynthDigits': 28, 'ColoredMNIST': 28, 'BiasedMNIST': 28,
              'BFFHQ': 224, 'Waterbirds': 224, 'BAR': 224, 'DogsAndCats': 224,
              'CorruptedCIFAR10': 32, 'PGDColoredMNIST': 28,
              'WatermarkedMNIST': 56, 'CartoonSet': 224, 'CelebABias': 224,
              'ImageNet9': 224,
              # 8-frame clips; small frames keep the 3D convolutions fast
              'Kinetics10': (8, 64, 64)}


def test_every_method_config_is_named_after_its_setting():
    assert CONFIGS
    for path in CONFIGS:
        method, _, rest = osp.basename(path)[:-3].partition('_')
        assert method and rest, path


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_a_working_model(path):
    cfg = Config.fromfile(path)
    prepare_config(cfg)
    check_before_build(cfg)
    severity = cfg.get('severity', cfg.get('rho'))
    datasets = [cfg.train_dataloader.dataset, cfg.val_dataloader.dataset,
                cfg.test_dataloader.dataset]
    # The leaf's setting reaches every split (the test split of the folder
    # data sets ignores it).
    assert all(d.get('severity', d.get('rho')) == severity for d in datasets)
    name = osp.basename(path)
    if severity is not None:  # CelebA's bias is natural: no severity
        assert str(severity) in name or 'unbiased' in name
    # Configs that differ only in the data setting build the same model: run
    # each distinct (model, input size) once.
    size = INPUT_SIZE[cfg.train_dataloader.dataset.type]
    shape = size if isinstance(size, tuple) else (size, size)
    signature = (repr(cfg.model), repr(cfg.get('data_preprocessor')), shape)
    if signature in _BUILT:
        return
    _BUILT.add(signature)
    backbone = cfg.model.classifier.backbone
    if backbone.get('pretrained'):
        # ImageNet weights are not on the test machines (no internet); the
        # missing-weights error has its own test.
        backbone.pretrained = None
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.get(
        'data_preprocessor')))
    batch = dict(
        inputs=torch.randint(0, 256, (2, 3) + shape, dtype=torch.uint8),
        data_samples=dict(gt_label=torch.tensor([0, 1]),
                          bias_label=torch.tensor([0, 2]),
                          sample_idx=torch.tensor([0, 1])))
    preds = model.test_step(batch)
    assert len(preds) == 2 and preds[0]['main_model'] == model.main_model
    assert preds[0]['pred_score'][model.main_model].shape == (
        cfg.num_classes, )
