import pytest
import torch
import torch.nn as nn

from debiascls.models.backbones import BagNet18
from debiascls.models.backbones.bagnet import BagNetBasicBlock
from debiascls.registry import MODELS


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def input_saliency(model: nn.Module, size: int, i: int, j: int,
                   seed: int = 0) -> torch.Tensor:
    """|d out[0, :, i, j].sum() / d x| summed over input channels, (H, W).

    The model is in eval mode, so BN uses running statistics and output
    positions do not interact through batch statistics."""
    torch.manual_seed(seed)
    model.eval()
    x = torch.randn(1, 3, size, size, requires_grad=True)
    model(x)[0, :, i, j].sum().backward()
    return x.grad.abs().sum(dim=(0, 1))


def assert_exact_window(grad: torch.Tensor, top: int, left: int, rf: int):
    """The gradient is zero outside rows top..top+rf-1 x cols
    left..left+rf-1, and each of the window's four border lines holds a
    non-zero entry (so the window cannot be smaller)."""
    mask = torch.zeros_like(grad, dtype=torch.bool)
    mask[top:top + rf, left:left + rf] = True
    assert top >= 0 and left >= 0
    assert top + rf <= grad.shape[0] and left + rf <= grad.shape[1]
    assert (grad[~mask] == 0).all()
    window = grad[top:top + rf, left:left + rf]
    assert (window[0] > 0).any() and (window[-1] > 0).any()
    assert (window[:, 0] > 0).any() and (window[:, -1] > 0).any()
    # the measured receptive field: bounding box of the non-zero gradient
    rows = torch.nonzero(grad.sum(dim=1)).flatten()
    cols = torch.nonzero(grad.sum(dim=0)).flatten()
    assert (rows.max() - rows.min() + 1).item() == rf
    assert (cols.max() - cols.min() + 1).item() == rf


def test_default_output_shape_224_and_registry():
    model = MODELS.build(dict(type='BagNet18'))
    assert isinstance(model, BagNet18)
    assert model.out_channels == 512
    assert model.kernel3 == (1, 0, 0, 0) and model.strides == (2, 2, 2, 1)
    with torch.no_grad():
        out = model.eval()(torch.randn(1, 3, 224, 224))
    # 224 -1x1-> 224 -3x3 valid-> 222 -3x3/2 valid-> 110 -/2-> 55 -/2-> 28
    # -/1-> 28 (ReBias's bagnet18 gives the same 28x28 map)
    assert out.shape == (1, 512, 28, 28)
    assert (out >= 0).all()


@pytest.mark.parametrize('size,side', [(32, 4), (40, 5), (64, 8)])
def test_small_inputs_follow_valid_conv_arithmetic(size, side):
    model = BagNet18().eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, size, size)).shape == (2, 512, side,
                                                              side)


def test_layout_of_reference_code():
    """Stem 1x1 -> unpadded 3x3 (no BN between), BN momentum 0.001; only the
    first block of layer1 keeps a 3x3 kernel; every second convolution of a
    block is 1x1; no padding anywhere; strides 2-2-2-1 on the first block of
    each stage; projections where shape changes (layer1 is strided, layer4
    widens at stride 1)."""
    model = BagNet18()
    assert model.conv1.kernel_size == (1, 1)
    assert model.conv2.kernel_size == (3, 3)
    assert model.bn1.momentum == 0.001
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            assert m.padding == (0, 0) and m.bias is None
    widths = (64, 128, 256, 512)
    for s, stride in enumerate((2, 2, 2, 1)):
        layer = getattr(model, f'layer{s + 1}')
        assert len(layer) == 2
        for b, block in enumerate(layer):
            expected = 3 if (s, b) == (0, 0) else 1
            assert block.conv1.kernel_size == (expected, expected)
            assert block.conv1.stride == ((stride, stride) if b == 0 else
                                          (1, 1))
            assert block.conv1.out_channels == widths[s]
            assert block.conv2.kernel_size == (1, 1)
            assert (block.downsample is not None) == (b == 0)


def test_shortcut_keeps_top_left_when_valid_conv_shrinks_the_branch():
    """A strided unpadded 3x3 on 7x7 gives 3x3 while the strided 1x1
    projection gives 4x4; like the BagNet code, the shortcut's last row and
    column are dropped. With the residual branch zeroed and the projection
    an identity, the block returns relu(x[::2, ::2][:3, :3])."""
    block = BagNetBasicBlock(2, 2, kernel_size=3, stride=2).eval()
    with torch.no_grad():
        nn.init.zeros_(block.bn2.weight)
        block.downsample[0].weight.copy_(torch.eye(2).view(2, 2, 1, 1))
    x = torch.randn(1, 2, 7, 7)
    with torch.no_grad():
        out = block(x)
    assert out.shape == (1, 2, 3, 3)
    assert torch.allclose(out, x[..., 0:6:2, 0:6:2].relu())


def test_parameter_count_by_hand():
    def conv(cin, cout, k=1):
        return cin * cout * k * k

    total = conv(3, 64) + conv(64, 64, 3) + 2 * 64
    cin = 64
    for s, cout in enumerate((64, 128, 256, 512)):
        for b in range(2):
            k = 3 if (s, b) == (0, 0) else 1
            total += conv(cin, cout, k) + conv(cout, cout) + 4 * cout
            if b == 0:
                total += conv(cin, cout) + 2 * cout  # projection + BN
            cin = cout
    assert n_params(BagNet18()) == total == 1_476_288


def test_receptive_field_of_reference_layout_is_5():
    """ReBias's bagnet18 (kernel3 = [1, 0, 0, 0]): output (i, j) depends on
    input rows/cols 8i..8i+4 only. Not the paper's RF = 43 (see the module
    docstring)."""
    model = BagNet18()
    assert model.receptive_field == 5
    grad = input_saliency(model, 64, 3, 4)
    assert_exact_window(grad, top=8 * 3, left=8 * 4, rf=5)


def test_receptive_field_43_window():
    """A layout with the paper's RF = 43 (3x3 kernels in layer3's first
    block and both layer4 blocks): one output position, (3, 3) of the 7x7
    map of a 96x96 input, has a zero input gradient outside the 43x43
    window at rows/cols 24..66 and a non-zero gradient on each border line
    of that window. With unpadded convolutions no padding is involved."""
    model = BagNet18(kernel3=(0, 0, 1, 2))
    assert model.receptive_field == 43
    with torch.no_grad():
        assert model.eval()(torch.zeros(1, 3, 96, 96)).shape[-2:] == (7, 7)
    grad = input_saliency(model, 96, 3, 3)
    assert_exact_window(grad, top=24, left=24, rf=43)


def test_receptive_field_attribute_matches_autograd_for_bagnet33_layout():
    """kernel3 = (1, 1, 1, 1) mirrors BagNet-33's pattern: 3 + 2 + 4 + 8 + 16
    = 33."""
    model = BagNet18(kernel3=(1, 1, 1, 1))
    assert model.receptive_field == 33
    grad = input_saliency(model, 72, 2, 3)
    assert_exact_window(grad, top=16, left=24, rf=33)


def test_gradients_reach_every_parameter_in_train_mode():
    model = BagNet18(in_channels=1).train()
    model(torch.randn(2, 1, 24, 24)).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.parameters())


def test_init_weights_and_bad_arguments():
    model = BagNet18()
    model.init_weights()
    assert torch.all(model.bn1.weight == 1)
    with pytest.raises(ValueError, match='kernel3'):
        BagNet18(kernel3=(1, 0, 0))
    with pytest.raises(ValueError, match='kernel3'):
        BagNet18(kernel3=(3, 0, 0, 0))
    with pytest.raises(ValueError, match='strides'):
        BagNet18(strides=(2, 2, 0, 1))
