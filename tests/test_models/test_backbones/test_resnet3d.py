import pytest
import torch
import torch.nn as nn

from debiascls.models.backbones import ResNet3D18
from debiascls.registry import MODELS

ROWS = ('conv1', 'maxpool', 'res2', 'res3', 'res4', 'res5')


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def row_shapes(model: ResNet3D18, clip: torch.Tensor) -> dict:
    """Output (T, C, H, W) of each Table A2 row (conv1 after its BN/ReLU
    has the conv's shape)."""
    shapes = {}
    hooks = [
        getattr(model, name).register_forward_hook(
            lambda m, i, o, name=name: shapes.__setitem__(
                name, (o.shape[2], o.shape[1], o.shape[3], o.shape[4])))
        for name in ROWS
    ]
    with torch.no_grad():
        model.eval()(clip)
    for h in hooks:
        h.remove()
    return shapes


def frame_saliency(model: nn.Module, frames: int, t0: int,
                   size: int = 16) -> torch.Tensor:
    """Per input frame, |d out[0, :, t0].sum() / d x| summed over channels,
    height and width (eval mode: BN does not mix positions)."""
    torch.manual_seed(0)
    model.eval()
    x = torch.randn(1, 3, frames, size, size, requires_grad=True)
    model(x)[0, :, t0].sum().backward()
    return x.grad.abs().sum(dim=(0, 1, 3, 4))


def test_table_a2_output_sizes_at_224():
    """Table A2's rows for an 8x3x224x224 clip (3D-ResNet18)."""
    model = ResNet3D18('3d')
    shapes = row_shapes(model, torch.randn(1, 3, 8, 224, 224))
    assert shapes == {
        'conv1': (8, 32, 112, 112),
        'maxpool': (8, 32, 56, 56),
        'res2': (8, 32, 56, 56),
        'res3': (8, 64, 28, 28),
        'res4': (8, 128, 14, 14),
        'res5': (8, 256, 7, 7),
    }


@pytest.mark.parametrize('preset', ['3d', '2d'])
def test_both_presets_halve_like_table_a2_at_112(preset):
    model = MODELS.build(dict(type='ResNet3D18', temporal_kernels=preset))
    assert model.out_channels == 256
    shapes = row_shapes(model, torch.randn(1, 3, 8, 112, 112))
    assert shapes == {
        'conv1': (8, 32, 56, 56),
        'maxpool': (8, 32, 28, 28),
        'res2': (8, 32, 28, 28),
        'res3': (8, 64, 14, 14),
        'res4': (8, 128, 7, 7),
        'res5': (8, 256, 4, 4),
    }


@pytest.mark.parametrize('preset,kt', [('3d', 3), ('2d', 1)])
def test_kernels_strides_and_paddings(preset, kt):
    """Stem kt x 7 x 7 / stride 1x2x2, max-pool 1x3x3 / 1x2x2; in each block
    a kt x 3 x 3 then a 1 x 3 x 3 convolution; spatial stride 2 in the first
    block of res3-res5; never a temporal stride."""
    model = ResNet3D18(temporal_kernels=preset)
    assert model.temporal_kernels == (kt, ) * 5
    assert model.conv1.kernel_size == (kt, 7, 7)
    assert model.conv1.stride == (1, 2, 2)
    assert model.conv1.padding == (kt // 2, 3, 3)
    pool = model.maxpool
    assert (pool.kernel_size, pool.stride, pool.padding) == ((1, 3, 3),
                                                             (1, 2, 2),
                                                             (0, 1, 1))
    for stage, stride in zip(('res2', 'res3', 'res4', 'res5'), (1, 2, 2, 2)):
        blocks = getattr(model, stage)
        assert len(blocks) == 2
        for b, block in enumerate(blocks):
            s = stride if b == 0 else 1
            assert block.conv1.kernel_size == (kt, 3, 3)
            assert block.conv1.stride == (1, s, s)
            assert block.conv1.padding == (kt // 2, 1, 1)
            assert block.conv2.kernel_size == (1, 3, 3)
            assert block.conv2.stride == (1, 1, 1)
            # projection only where channels or resolution change
            assert (block.downsample is not None) == (b == 0
                                                      and stage != 'res2')
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            assert m.stride[0] == 1 and m.bias is None


@pytest.mark.parametrize('kt', [3, 1])
def test_parameter_count_by_hand(kt):
    def conv(cin, cout, k):
        return cin * cout * k

    total = conv(3, 32, kt * 49) + 2 * 32
    cin = 32
    for cout in (32, 64, 128, 256):
        for b in range(2):
            total += conv(cin, cout, kt * 9) + conv(cout, cout, 9) + 4 * cout
            if b == 0 and cin != cout:
                total += conv(cin, cout, 1) + 2 * cout
            cin = cout
    model = ResNet3D18('3d' if kt == 3 else '2d')
    assert n_params(model) == total
    assert total == {3: 5_167_584, 1: 2_798_880}[kt]


def test_temporal_receptive_field_3d_is_19():
    """Output step t0 = 11 of a 23-frame clip depends on frames 2..20 (19
    frames) and on no other; frames 2 and 20 (the window's ends) have a
    non-zero gradient. t0 - 9 >= 0 and t0 + 9 <= 22, so temporal zero
    padding cannot cut the window."""
    model = ResNet3D18('3d')
    assert model.temporal_receptive_field == 19
    grad = frame_saliency(model, frames=23, t0=11)
    nonzero = torch.nonzero(grad).flatten().tolist()
    assert nonzero == list(range(2, 21))


def test_temporal_receptive_field_2d_is_1():
    """2D-ResNet18: output step t0 depends on frame t0 only."""
    model = ResNet3D18('2d')
    assert model.temporal_receptive_field == 1
    for t0 in (0, 3, 5):
        grad = frame_saliency(model, frames=6, t0=t0)
        assert torch.nonzero(grad).flatten().tolist() == [t0]


def test_custom_temporal_kernels_rf_matches_autograd():
    """ReBias's '11133' variant: 1 + 2 * 2 + 2 * 2 = 9 frames."""
    model = ResNet3D18(temporal_kernels=(1, 1, 1, 3, 3), base_width=8)
    assert model.out_channels == 64
    assert model.temporal_receptive_field == 9
    grad = frame_saliency(model, frames=13, t0=6)
    assert torch.nonzero(grad).flatten().tolist() == list(range(2, 11))


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="unknown temporal_kernels '3D'"):
        ResNet3D18('3D')
    with pytest.raises(ValueError, match='five odd'):
        ResNet3D18((3, 3, 3, 3))
    with pytest.raises(ValueError, match='five odd'):
        ResNet3D18((3, 3, 2, 3, 3))
    with pytest.raises(ValueError, match=r'\(B, C, T, H, W\)'):
        ResNet3D18('2d', base_width=4)(torch.zeros(1, 3, 16, 16))


def test_train_mode_gradients_and_init_weights():
    model = ResNet3D18('3d', base_width=4, in_channels=1).train()
    out = model(torch.randn(2, 1, 4, 16, 16))
    assert out.shape == (2, 32, 4, 1, 1)
    out.mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.parameters())
    model.init_weights()
    assert torch.all(model.bn1.weight == 1)
