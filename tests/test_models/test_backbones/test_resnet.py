import os

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torchvision.models import resnet18
from torchvision.models._api import WeightsEnum

from debiascls.models.backbones import ResNet18, torchvision_resnet18_path
from debiascls.models.backbones.resnet import (TORCHVISION_RESNET18_URL,
                                               extract_backbone_state_dict)
from debiascls.registry import MODELS


class NotATensor:
    """Arbitrary object that ``weights_only=True`` refuses to unpickle."""


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture
def hub_dir(tmp_path):
    """Point torch.hub (torchvision's cache) at an empty temporary dir."""
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield tmp_path / 'hub'
    torch.hub.set_dir(old)


@pytest.fixture(scope='module')
def tv_model():
    """A torchvision resnet18 with non-trivial weights and BN statistics."""
    torch.manual_seed(0)
    model = resnet18(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)
    return model.eval()


def assert_same_trunk(model: ResNet18, tv: nn.Module) -> None:
    ours, ref = model.state_dict(), tv.state_dict()
    for k, v in ours.items():
        torch.testing.assert_close(v, ref[k], rtol=0, atol=0, msg=k)


def test_shape_and_out_channels():
    model = ResNet18()
    assert model.out_channels == 512
    assert model(torch.randn(2, 3, 224, 224)).shape == (2, 512, 7, 7)
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 512, 2, 2)


def test_same_parameter_tensors_as_torchvision_minus_fc():
    model, tv = ResNet18(), resnet18(weights=None)
    ours = {k: v.shape for k, v in model.state_dict().items()}
    ref = {
        k: v.shape
        for k, v in tv.state_dict().items() if not k.startswith('fc.')
    }
    assert ours == ref
    assert n_params(model) == n_params(tv) - (512 * 1000 + 1000)
    assert n_params(model) == 11_176_512
    assert not hasattr(model, 'fc') and not hasattr(model, 'avgpool')


def test_forward_matches_torchvision_features(tv_model, tmp_path):
    path = tmp_path / 'r18.pth'
    torch.save(tv_model.state_dict(), path)
    model = ResNet18(pretrained=str(path)).eval()
    ref = resnet18(weights=None)
    ref.load_state_dict(tv_model.state_dict())
    ref.fc = nn.Identity()
    ref.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x).mean((2, 3)), ref(x))


@pytest.mark.parametrize('wrap', ['plain', 'state_dict', 'module',
                                  'backbone', 'module.backbone'])
def test_load_local_state_dict(tv_model, tmp_path, wrap):
    sd = tv_model.state_dict()
    if wrap == 'state_dict':
        obj = {'state_dict': sd, 'epoch': torch.tensor(3)}
    elif wrap == 'module':
        obj = {'module.' + k: v for k, v in sd.items()}
    elif wrap == 'backbone':
        # a classifier checkpoint: the head entries must be ignored
        obj = {'state_dict': {'backbone.' + k: v for k, v in sd.items()}}
        obj['state_dict']['head.fc.weight'] = torch.zeros(2, 512)
    elif wrap == 'module.backbone':
        obj = {'module.backbone.' + k: v for k, v in sd.items()}
    else:
        obj = sd
    path = tmp_path / 'ckpt.pth'
    torch.save(obj, path)
    model = MODELS.build(dict(type='ResNet18', pretrained=str(path)))
    assert_same_trunk(model, tv_model)


def test_extract_backbone_state_dict_drops_fc():
    sd = {'fc.weight': torch.zeros(1), 'conv1.weight': torch.ones(1)}
    assert list(extract_backbone_state_dict(sd)) == ['conv1.weight']


def test_missing_num_batches_tracked_is_tolerated(tv_model, tmp_path):
    sd = {
        k: v
        for k, v in tv_model.state_dict().items()
        if not k.endswith('num_batches_tracked') and not k.startswith('fc.')
    }
    path = tmp_path / 'old_style.pth'
    torch.save(sd, path)
    model = ResNet18(pretrained=str(path))
    for k, v in sd.items():
        torch.testing.assert_close(model.state_dict()[k], v)


def test_missing_file_raises_with_path(tmp_path):
    path = tmp_path / 'nowhere' / 'resnet18.pth'
    with pytest.raises(FileNotFoundError) as info:
        ResNet18(pretrained=str(path))
    assert str(path) in str(info.value)
    assert TORCHVISION_RESNET18_URL in str(info.value)


def test_torchvision_cache_missing_raises_without_download(
        hub_dir, monkeypatch):

    def no_download(*args, **kwargs):
        raise AssertionError('must not download without allow_download')

    monkeypatch.setattr(WeightsEnum, 'get_state_dict', no_download)
    expected = os.path.join(str(hub_dir), 'checkpoints',
                            'resnet18-f37072fd.pth')
    assert torchvision_resnet18_path() == expected
    with pytest.raises(FileNotFoundError) as info:
        ResNet18(pretrained='torchvision')
    msg = str(info.value)
    assert expected in msg
    assert TORCHVISION_RESNET18_URL in msg
    assert TORCHVISION_RESNET18_URL.endswith('resnet18-f37072fd.pth')


def test_torchvision_cache_is_used(hub_dir, tv_model):
    path = torchvision_resnet18_path()
    os.makedirs(os.path.dirname(path))
    torch.save(tv_model.state_dict(), path)
    assert_same_trunk(ResNet18(pretrained='torchvision'), tv_model)


def test_allow_download_calls_torchvision_downloader(hub_dir, tv_model,
                                                     monkeypatch):
    calls = []

    def fake_download(self, *args, **kwargs):
        calls.append(self)
        path = torchvision_resnet18_path()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        torch.save(tv_model.state_dict(), path)
        return tv_model.state_dict()

    monkeypatch.setattr(WeightsEnum, 'get_state_dict', fake_download)
    model = ResNet18(pretrained='torchvision', allow_download=True)
    assert len(calls) == 1
    assert_same_trunk(model, tv_model)


def test_key_mismatch_raises_listing_keys(tv_model, tmp_path):
    sd = dict(tv_model.state_dict())
    del sd['layer4.1.conv2.weight']
    sd['layer5.0.conv1.weight'] = torch.zeros(1)
    path = tmp_path / 'bad.pth'
    torch.save(sd, path)
    with pytest.raises(RuntimeError) as info:
        ResNet18(pretrained=str(path))
    msg = str(info.value)
    assert 'layer4.1.conv2.weight' in msg and 'missing' in msg
    assert 'layer5.0.conv1.weight' in msg and 'unexpected' in msg


def test_shape_mismatch_raises(tv_model, tmp_path):
    path = tmp_path / 'rgb.pth'
    torch.save(tv_model.state_dict(), path)
    with pytest.raises(RuntimeError, match='conv1.weight'):
        ResNet18(pretrained=str(path), in_channels=1)


def test_non_tensor_checkpoint_raises(tv_model, tmp_path):
    path = tmp_path / 'full.pth'
    torch.save({'state_dict': tv_model.state_dict(), 'meta': NotATensor()},
               path)
    with pytest.raises(RuntimeError, match='weights_only'):
        ResNet18(pretrained=str(path))


def test_pretrained_survives_parent_init_cfg(tv_model, tmp_path):
    path = tmp_path / 'r18.pth'
    torch.save(tv_model.state_dict(), path)

    class Wrapper(BaseModule):

        def __init__(self):
            super().__init__(
                init_cfg=dict(type='Constant', layer='Conv2d', val=0.0))
            self.backbone = ResNet18(pretrained=str(path))

    wrapper = Wrapper()
    wrapper.init_weights()
    assert_same_trunk(wrapper.backbone, tv_model)


def test_random_init_and_in_channels():
    torch.manual_seed(0)
    model = ResNet18(in_channels=1)
    assert model.conv1.weight.shape == (64, 1, 7, 7)
    w = model.layer4[0].conv1.weight.detach()
    # torchvision init: kaiming normal, fan_out = 512 * 3 * 3
    assert w.std().item() == pytest.approx((2 / (512 * 9))**0.5, rel=0.02)
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 512, 1, 1)


def test_gradients_flow_to_all_parameters():
    model = ResNet18()
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    model(x).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
