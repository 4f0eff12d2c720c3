"""CosFairNet: losses by hand, the layer-wise second update leaves every
other layer (and its optimizer state) untouched, and f_b unchanged."""
import math

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict

from debiascls.models import CosFairNet
from debiascls.models.algorithms.cosfairnet import cosine, layer_vector

MLP = dict(
    type='ImageClassifier',
    backbone=dict(type='MLP', in_channels=3, in_size=4,
                  hidden_dims=(6, 5, 4)),
    head=dict(type='GAPLinearHead', num_classes=3))


def _model(**kwargs):
    torch.manual_seed(0)
    kwargs.setdefault('similar_layers', ['backbone.layers.0'])
    kwargs.setdefault('dissimilar_layers', ['backbone.layers.2'])
    model = CosFairNet(classifier=MLP, **kwargs)
    model.per_sample.setup([0, 1, 2, 0])
    return model


def _adam(model):
    return OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.Adam(m.parameters(), lr=0.01))
        for name, m in model.models.items()
    })


def test_layer_losses_by_hand():
    model = _model(lambda_sim=2.0, lambda_dissim=0.5)
    cos = torch.tensor(-0.6)
    assert model.layer_loss(cos, 'sim').item() == pytest.approx(2 * 1.6)
    assert model.layer_loss(cos, 'dissim').item() == pytest.approx(-0.3)
    model.dissim_form = 'abs'
    assert model.layer_loss(cos, 'dissim').item() == pytest.approx(0.3)
    model.dissim_form = 'square'
    assert model.layer_loss(cos, 'dissim').item() == pytest.approx(0.18)
    model.sign_convention = 'supplementary'  # S on initial, 1 - S on later
    assert model.layer_loss(cos, 'sim').item() == pytest.approx(2 * -0.6)
    assert model.layer_loss(cos, 'dissim').item() == pytest.approx(0.5 * 1.6)


def test_cosine_of_flattened_layer_parameters():
    layer = torch.nn.Linear(2, 1)
    layer.weight.data = torch.tensor([[3.0, 0.0]])
    layer.bias.data = torch.tensor([4.0])
    assert layer_vector(layer).tolist() == [3.0, 0.0, 4.0]
    assert layer_vector(layer, include_bias=False).tolist() == [3.0, 0.0]
    other = torch.tensor([0.0, 1.0, 0.0])
    assert cosine(layer_vector(layer), other).item() == 0.0
    assert cosine(torch.tensor([1.0, 1.0]), torch.tensor(
        [1.0, 0.0])).item() == pytest.approx(1 / math.sqrt(2))


def test_second_update_moves_only_its_layer_and_not_f_b():
    model = _model()
    optim = _adam(model)
    batch = dict(
        inputs=torch.rand(4, 3, 4, 4),
        data_samples=dict(gt_label=torch.tensor([0, 1, 2, 0]),
                          sample_idx=torch.arange(4)))
    model._hooks_checked = True
    # A first full step gives every parameter Adam state.
    model.train_step(batch, optim)
    f_d = model.models['debiased']
    opt_d = optim['debiased'].optimizer
    params = dict(f_d.named_parameters())
    before = {n: p.detach().clone() for n, p in params.items()}
    state = {n: {k: v.clone() for k, v in opt_d.state[p].items()}
             for n, p in params.items()}
    f_b_before = {n: p.detach().clone()
                  for n, p in model.models['biased'].named_parameters()}
    cos_before = {
        name: cosine(layer_vector(dict(f_d.named_modules())[name]),
                     layer_vector(dict(model.models['biased'].named_modules())
                                  [name])).item()
        for name, _ in model.layers
    }

    log = model.realign(optim)

    for name, p in params.items():
        moved = not torch.equal(before[name], p)
        in_layer = name.startswith(('backbone.layers.0.',
                                    'backbone.layers.2.'))
        assert moved == in_layer, name
        same_state = all(torch.equal(state[name][k], opt_d.state[p][k])
                         for k in state[name])
        assert same_state != in_layer, name  # momentum untouched elsewhere
    for name, p in model.models['biased'].named_parameters():
        assert torch.equal(f_b_before[name], p), name
    # similarity raised the first layer's cosine, dissimilarity lowered the
    # third's
    assert log['cos/backbone.layers.0'] == pytest.approx(
        cos_before['backbone.layers.0'])
    f_b_modules = dict(model.models['biased'].named_modules())
    f_d_modules = dict(f_d.named_modules())
    after = {
        name: cosine(layer_vector(f_d_modules[name]),
                     layer_vector(f_b_modules[name])).item()
        for name, _ in model.layers
    }
    assert after['backbone.layers.0'] > cos_before['backbone.layers.0']
    assert after['backbone.layers.2'] < cos_before['backbone.layers.2']


def test_raw_difficulty_and_bad_arguments():
    model = _model(difficulty='raw')
    w = model.relative_difficulty(torch.tensor([0]), torch.tensor([0]),
                                  torch.tensor([3.0]), torch.tensor([1.0]))
    assert w.item() == pytest.approx(0.75)
    with pytest.raises(KeyError, match='no layer "backbone.layers.9"'):
        _model(similar_layers=['backbone.layers.9'])
    with pytest.raises(ValueError, match='both'):
        _model(similar_layers=['head.fc'], dissimilar_layers=['head.fc'])
    with pytest.raises(ValueError, match='dissim_form'):
        _model(dissim_form='sine')


def test_separate_realign_optimizer_steps_by_hand_and_leaves_adam_alone():
    from debiascls.engine.optimizers import MultiModelOptimWrapperConstructor
    model = _model(realign_optimizer='separate', lambda_sim=2.0,
                   lambda_dissim=0.5)
    constructor = MultiModelOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=0.01),
             per_model=dict(realign=dict(optimizer=dict(type='SGD',
                                                         lr=0.5)))))
    optim = constructor(model)
    assert set(optim.keys()) == {'biased', 'debiased', 'realign'}
    realign = optim['realign'].optimizer
    assert isinstance(realign, torch.optim.SGD)
    f_d = model.models['debiased']
    modules_d = dict(f_d.named_modules())
    modules_b = dict(model.models['biased'].named_modules())
    layer_params = {id(p) for name, _ in model.layers
                    for p in modules_d[name].parameters()}
    assert {id(p) for g in realign.param_groups
            for p in g['params']} == layer_params
    # a view: the checkpoint has no second copy of the layers
    assert not any(k.startswith('realign') for k in model.state_dict())

    batch = dict(
        inputs=torch.rand(4, 3, 4, 4),
        data_samples=dict(gt_label=torch.tensor([0, 1, 2, 0]),
                          sample_idx=torch.arange(4)))
    model._hooks_checked = True
    model.train_step(batch, optim)  # main update + a realignment
    opt_d = optim['debiased'].optimizer
    adam_state = {id(p): {k: v.clone() for k, v in opt_d.state[p].items()}
                  for p in f_d.parameters()}
    expected = {}
    for name, group in model.layers:
        a = layer_vector(modules_d[name]).detach().requires_grad_()
        b = layer_vector(modules_b[name]).detach()
        loss = (2.0 * (1 - cosine(a, b)) if group == 'sim' else
                0.5 * cosine(a, b))
        grad, = torch.autograd.grad(loss, a)
        expected[name] = (a - 0.5 * grad).detach()  # plain SGD, lr 0.5

    model.realign(optim)

    for name, _ in model.layers:
        torch.testing.assert_close(layer_vector(modules_d[name]),
                                   expected[name])
    for p in f_d.parameters():  # f_d's Adam moments are not touched
        for key, value in adam_state[id(p)].items():
            assert torch.equal(opt_d.state[p][key], value)


def test_realign_optimizer_names_and_errors():
    from debiascls.engine.optimizers import MultiModelOptimWrapperConstructor
    with pytest.raises(ValueError, match='realign_optimizer'):
        _model(realign_optimizer='own')
    shared = _model()
    assert shared.extra_optim_modules() == {}
    constructor = MultiModelOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=0.01),
             per_model=dict(realign=dict(optimizer=dict(lr=0.1)))))
    with pytest.raises(KeyError, match='realign'):
        constructor(shared)
    separate = _model(realign_optimizer='separate')
    with pytest.raises(KeyError, match="optim_wrapper\\['realign'\\]"):
        separate.realign(_adam(separate))
