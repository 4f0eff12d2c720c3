"""benchmarks/equality_check.py: the fingerprints and the comparison that
say whether a change moved a result (its runs are a benchmark, not a
test)."""
import torch

from tool_helpers import load_script


def _module():
    return load_script('benchmarks/equality_check.py', 'equality_check')


def test_fingerprint_sees_every_bit_dtype_and_shape():
    fp = _module().fingerprint
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    same = fp({'w': x.clone(), 'n': 3})
    assert same == fp({'w': x, 'n': 3})
    flipped = x.clone()
    flipped.view(torch.int32)[2] ^= 1  # the last mantissa bit of 3.0
    assert fp(flipped) != fp(x)
    assert fp(x.double()) != fp(x)
    assert fp(x.view(2, 2)) != fp(x)
    assert fp(torch.tensor(True)) != fp(torch.tensor(False))
    assert fp(x[::2]) == fp(torch.tensor([1.0, 3.0]))  # a view's values


def _run(weight='a', metric=50.0, exact=True):
    return dict(state_dict={'w': weight}, optimizer={'state': {}},
                results=[dict(mode='val', split='test', iter=3,
                              metrics={'acc': metric})],
                resume_exact=exact)


def test_compare_names_what_differs():
    compare = _module().compare
    base = {'lff': _run(), 'ie': _run()}
    assert compare(base, {'lff': _run(), 'ie': _run()}) == [
        'ie: bit-identical, resume exact', 'lff: bit-identical, resume exact'
    ]
    lines = compare(base, {'lff': _run(weight='b'),
                           'ie': _run(metric=50.000001, exact=False)})
    assert lines == [
        'ie: DIFFERS: metrics, resume not exact',
        "lff: DIFFERS: state_dict (1: ['w'])",
    ]
    assert compare(base, {'lff': _run()}) == [
        'ie: only in the baseline record', 'lff: bit-identical, resume exact'
    ]
