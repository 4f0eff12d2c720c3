import pytest
from mmengine.optim import OptimWrapperDict
from torch import nn

from debiascls.engine.optimizers import MultiModelOptimWrapperConstructor


class TwoModels(nn.Module):

    def __init__(self):
        super().__init__()
        self.models = nn.ModuleDict(
            dict(biased=nn.Linear(2, 2), debiased=nn.Linear(2, 3)))


def test_one_optimizer_per_model_with_overrides():
    constructor = MultiModelOptimWrapperConstructor(
        dict(
            type='OptimWrapper',
            optimizer=dict(type='Adam', lr=1e-3),
            per_model=dict(biased=dict(optimizer=dict(lr=1e-2)))))
    model = TwoModels()
    wrappers = constructor(model)
    assert isinstance(wrappers, OptimWrapperDict)
    assert set(wrappers.keys()) == {'biased', 'debiased'}
    assert wrappers['biased'].get_lr()['lr'] == [1e-2]
    assert wrappers['debiased'].get_lr()['lr'] == [1e-3]
    params = wrappers['debiased'].optimizer.param_groups[0]['params']
    assert {id(p) for p in params} == {
        id(p) for p in model.models['debiased'].parameters()
    }


def test_unknown_model_name_is_an_error():
    constructor = MultiModelOptimWrapperConstructor(
        dict(optimizer=dict(type='Adam'), per_model=dict(debaised={})))
    with pytest.raises(KeyError, match='debaised'):
        constructor(TwoModels())


def test_missing_optimizer_is_an_error():
    with pytest.raises(KeyError, match='optimizer'):
        MultiModelOptimWrapperConstructor(dict(type='OptimWrapper'))
