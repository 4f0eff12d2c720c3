import pytest
import torch

from debiascls.models.backbones import MLP
from debiascls.registry import MODELS


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_lff_mlp_shape_and_params():
    model = MLP()
    assert model.out_channels == 100
    out = model(torch.randn(4, 3, 28, 28))
    assert out.shape == (4, 100, 1, 1)
    assert (out >= 0).all()  # last hidden activation is post-ReLU
    # LfF: 2352 -> 100 -> 100 -> 100, weights + biases
    assert n_params(model) == 2352 * 100 + 100 + 2 * (100 * 100 + 100)
    assert n_params(model) == 255_500


def test_disent_be_mlp_shape_and_params():
    model = MLP(hidden_dims=(100, 100, 16))
    assert model.out_channels == 16
    assert model(torch.randn(2, 3, 28, 28)).shape == (2, 16, 1, 1)
    expected = (2352 * 100 + 100) + (100 * 100 + 100) + (100 * 16 + 16)
    assert n_params(model) == expected == 247_016


def test_non_square_input_and_channels():
    model = MLP(in_channels=1, in_size=(8, 12), hidden_dims=(7, ))
    assert model(torch.randn(3, 1, 8, 12)).shape == (3, 7, 1, 1)
    assert n_params(model) == 96 * 7 + 7


@pytest.mark.parametrize('shape', [(2, 3, 32, 32), (2, 1, 28, 28),
                                   (2, 3 * 28 * 28), (3, 28, 28)])
def test_wrong_input_shape_raises(shape):
    model = MLP()
    with pytest.raises(ValueError) as info:
        model(torch.randn(*shape))
    msg = str(info.value)
    assert '(B, 3, 28, 28)' in msg
    assert str(tuple(shape)) in msg


def test_input_scale_reproduces_lff_divide_by_255():
    torch.manual_seed(0)
    plain = MLP()
    scaled = MLP(input_scale=1 / 255)
    scaled.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 28, 28)
    torch.testing.assert_close(scaled(x), plain(x / 255))


def test_gradients_flow_to_all_parameters():
    model = MLP(hidden_dims=(100, 100, 16))
    x = torch.randn(8, 3, 28, 28, requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name


def test_registry_build_and_init_weights_redraws():
    model = MODELS.build(dict(type='MLP', hidden_dims=(100, 100, 16)))
    assert isinstance(model, MLP)
    before = model.layers[0].weight.detach().clone()
    model.init_weights()
    after = model.layers[0].weight
    assert not torch.equal(before, after)
    # PyTorch default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert after.abs().max() <= 1 / 2352**0.5


def test_invalid_arguments():
    with pytest.raises(ValueError):
        MLP(hidden_dims=())
    with pytest.raises(ValueError):
        MLP(in_size=(28, 0))
