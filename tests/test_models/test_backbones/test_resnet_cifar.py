import math

import pytest
import torch
import torch.nn as nn

from debiascls.models.backbones import ResNet20, ResNetCIFAR
from debiascls.models.backbones.resnet_cifar import ShortcutA
from debiascls.registry import MODELS


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def trunk_params_by_hand(depth: int, in_channels: int = 3,
                         option_b: bool = False) -> int:
    """Count conv/BN parameters of the He et al. 2016 CIFAR ResNet."""
    n = (depth - 2) // 6

    def conv(cin, cout, k=3):
        return cin * cout * k * k

    def bn(c):
        return 2 * c

    total = conv(in_channels, 16) + bn(16)
    cin = 16
    for cout in (16, 32, 64):
        for _ in range(n):
            total += conv(cin, cout) + bn(cout) + conv(cout, cout) + bn(cout)
            if option_b and cin != cout:  # 1x1 projection + BN
                total += conv(cin, cout, k=1) + bn(cout)
            cin = cout
    return total


def test_resnet20_shape_and_out_channels():
    model = ResNet20()
    assert model.out_channels == 64
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 64, 8, 8)
    assert (out >= 0).all()


def test_resnet20_parameter_count_option_a():
    model = ResNet20()
    head = 64 * 10 + 10
    assert n_params(model) == trunk_params_by_hand(20) == 269_072
    # The ResNet20 total usually quoted with option-A shortcuts is 269,722;
    # 272,474 is the count with option-B (1x1 conv + BN) projections.
    assert n_params(model) + head == 269_722
    assert trunk_params_by_hand(20, option_b=True) + head == 272_474
    # the shortcuts hold no parameters (option A)
    for m in model.modules():
        if isinstance(m, ShortcutA):
            assert n_params(m) == 0


@pytest.mark.parametrize('depth,millions', [(32, 0.46), (44, 0.66),
                                            (56, 0.85)])
def test_deeper_variants(depth, millions):
    model = ResNetCIFAR(depth=depth)
    assert model.num_blocks == (depth - 2) // 6
    assert n_params(model) == trunk_params_by_hand(depth)
    # He et al. 2016, Table 6 (with the 64 -> 10 classifier)
    assert (n_params(model) + 650) / 1e6 == pytest.approx(millions, abs=5e-3)
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 64, 8, 8)


def test_resnet20_equals_resnetcifar_depth20_and_registry():
    a = MODELS.build(dict(type='ResNet20'))
    b = MODELS.build(dict(type='ResNetCIFAR', depth=20))
    assert isinstance(a, ResNet20) and type(b) is ResNetCIFAR
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    assert all(sa[k].shape == sb[k].shape for k in sa)


def test_in_channels_and_other_sizes():
    model = ResNet20(in_channels=1)
    assert model(torch.randn(2, 1, 64, 48)).shape == (2, 64, 16, 12)
    assert n_params(model) == trunk_params_by_hand(20, in_channels=1)


def test_invalid_depth():
    for depth in (18, 21, 2):
        with pytest.raises(ValueError, match='6n \\+ 2'):
            ResNetCIFAR(depth=depth)


def test_option_a_shortcut_values():
    x = torch.randn(2, 16, 8, 8)
    out = ShortcutA(16, 32, stride=2)(x)
    assert out.shape == (2, 32, 4, 4)
    torch.testing.assert_close(out[:, 8:24], x[:, :, ::2, ::2])
    assert (out[:, :8] == 0).all() and (out[:, 24:] == 0).all()


def check_kaiming_fan_in(model: nn.Module) -> int:
    checked = 0
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            w = m.weight.detach()
            fan_in = w.shape[1] * w.shape[2] * w.shape[3]
            expected = math.sqrt(2.0 / fan_in)
            # sampling error of a std estimate is about expected/sqrt(2N)
            tol = 5 / math.sqrt(2 * w.numel())
            assert abs(w.std().item() / expected - 1) < tol, name
            assert abs(w.mean().item()) < 5 * expected / math.sqrt(
                w.numel()), name
            checked += 1
        elif isinstance(m, nn.BatchNorm2d):
            assert (m.weight == 1).all() and (m.bias == 0).all(), name
    return checked


def test_kaiming_normal_init_statistics():
    torch.manual_seed(0)
    model = ResNet20()
    assert check_kaiming_fan_in(model) == 1 + 2 * 9
    # the whole trunk at once: every conv weight / sqrt(2 / fan_in) ~ N(0, 1)
    z = torch.cat([
        m.weight.detach().flatten() / math.sqrt(2.0 / m.weight[0].numel())
        for m in model.modules() if isinstance(m, nn.Conv2d)
    ])
    assert abs(z.std().item() - 1) < 0.01
    assert abs(z.mean().item()) < 0.01


def test_init_weights_redraws_kaiming():
    torch.manual_seed(0)
    model = ResNet20()
    before = model.layer3[0].conv1.weight.detach().clone()
    with torch.no_grad():
        model.bn1.weight.fill_(3.0)
    model.init_weights()
    assert not torch.equal(before, model.layer3[0].conv1.weight)
    check_kaiming_fan_in(model)


def test_gradients_flow_to_all_parameters():
    model = ResNet20()
    x = torch.randn(4, 3, 32, 32, requires_grad=True)
    model(x).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
