"""The worked example of docs/adding_a_method.md runs as printed."""
import os.path as osp
import re

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict

from debiascls.apis import prepare_config
from debiascls.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _blocks():
    with open(osp.join(REPO, 'docs', 'adding_a_method.md')) as f:
        return re.findall(r'```python\n(.*?)```', f.read(), re.S)


def test_worked_example_trains_and_its_config_inherits(tmp_path):
    code, leaf = _blocks()[:2]
    if MODELS.get('FocalERM') is None:
        exec(compile(code, 'docs/adding_a_method.md', 'exec'), {})
    base = Config.fromfile(
        osp.join(REPO, 'configs/methods/vanilla_synthdigits_1pct.py'))
    leaf_path = tmp_path / 'focal_synthdigits_1pct.py'
    leaf_path.write_text(leaf.replace(
        "'./vanilla_synthdigits_1pct.py'",
        repr(osp.join(REPO, 'configs/methods/vanilla_synthdigits_1pct.py'))))
    cfg = Config.fromfile(str(leaf_path))
    prepare_config(cfg)
    prepare_config(base)
    assert cfg.model.type == 'FocalERM'
    assert cfg.model.classifier == base.model.classifier

    torch.manual_seed(0)
    model = MODELS.build(dict(cfg.model, gamma=0.0))
    inputs = torch.randint(0, 256, (4, 3, 28, 28), dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 3])
    batch = dict(inputs=inputs, data_samples=dict(
        gt_label=labels, sample_idx=torch.arange(4)))
    # gamma = 0 is the cross-entropy.
    logits = model(model.data_preprocessor(batch, True)['inputs'])
    expected = F.cross_entropy(logits, labels)
    optim = OptimWrapperDict(classifier=OptimWrapper(torch.optim.SGD(
        model.models['classifier'].parameters(), lr=0.1)))
    log = model.train_step(batch, optim)
    assert torch.allclose(log['loss'], expected)
