"""Label noise of BaseBiasDataset (PGD's noisy-label experiments): exact
count, flips to another class, determinism, train split only, the clean
labels for analysis, validation."""
import numpy as np
import pytest

from debiascls.datasets import BaseBiasDataset, PGDColoredMNIST
from debiascls.datasets.pgd_colored_mnist import generate_pgd_colored_mnist

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


class Toy(BaseBiasDataset):
    """``n`` in-memory 2x2 images, labels cycling over ``k`` classes."""

    def __init__(self, n=1000, k=10, **kwargs):
        self.n, self.k = n, k
        kwargs.setdefault('metainfo', dict(
            classes=tuple(str(i) for i in range(k)),
            bias_classes=tuple(str(i) for i in range(k))))
        kwargs.setdefault('serialize_data', False)
        super().__init__(**kwargs)

    def load_data_list(self):
        return [dict(img=np.full((2, 2, 3), i % 256, np.uint8),
                     gt_label=i % self.k, bias_label=(i * 7) % self.k)
                for i in range(self.n)]


def test_exact_count_other_class_and_clean_labels():
    clean = Toy().get_gt_labels()
    ds = Toy(label_noise=0.1, label_noise_seed=3)
    gt, mask = ds.get_gt_labels(), ds.get_noisy_mask()
    assert mask.sum() == 100  # round(0.1 * 1000)
    assert (gt[mask] != clean[mask]).all()  # never flipped to itself
    assert (gt[~mask] == clean[~mask]).all()
    np.testing.assert_array_equal(ds.get_clean_labels(), clean)
    assert ((gt >= 0) & (gt < 10)).all()
    # the new class is uniform over the other 9: every shift appears
    shifts = (gt[mask] - clean[mask]) % 10
    assert set(shifts.tolist()) == set(range(1, 10))
    # bias labels are not touched
    np.testing.assert_array_equal(ds.get_bias_labels(),
                                  Toy().get_bias_labels())
    # halves are rounded up: 0.0125 * 200 = 2.5 -> 3
    assert Toy(n=200, label_noise=0.0125).get_noisy_mask().sum() == 3
    assert Toy(n=200, label_noise=0.0).get_noisy_mask().sum() == 0


def test_deterministic_and_seeded():
    a = Toy(label_noise=0.2, label_noise_seed=5).get_gt_labels()
    b = Toy(label_noise=0.2, label_noise_seed=5).get_gt_labels()
    c = Toy(label_noise=0.2, label_noise_seed=6).get_gt_labels()
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    # two classes: a flip always swaps the class
    ds = Toy(k=2, label_noise=0.3)
    clean = ds.get_clean_labels()
    assert (ds.get_gt_labels()[ds.get_noisy_mask()] == 1 -
            clean[ds.get_noisy_mask()]).all()


def test_metrics_and_batches_see_the_noisy_label():
    ds = Toy(n=50, label_noise=0.5, pipeline=PIPELINE)
    noisy = np.flatnonzero(ds.get_noisy_mask())
    i = int(noisy[0])
    item = ds[i]
    assert item['data_samples'] == dict(gt_label=int(ds.get_gt_labels()[i]),
                                        bias_label=int(
                                            ds.get_bias_labels()[i]),
                                        sample_idx=i)
    assert item['data_samples']['gt_label'] != ds.get_clean_labels()[i]
    assert ds.get_cat_ids(i) == [int(ds.get_gt_labels()[i])]
    info = ds.get_data_info(i)
    assert info['clean_label'] == int(ds.get_clean_labels()[i])
    # subsets keep the noise drawn on the full list
    sub = ds.get_subset([i, 0])
    assert sub.get_gt_labels()[0] == ds.get_gt_labels()[i]
    assert sub.get_clean_labels()[0] == ds.get_clean_labels()[i]
    picked = Toy(n=50, label_noise=0.5, indices=[i])
    assert picked.get_gt_labels().tolist() == [ds.get_gt_labels()[i]]


def test_only_the_train_split_is_noisy():
    for split in ('valid', 'test'):
        ds = Toy(split=split, label_noise=0.3)
        assert not ds.get_noisy_mask().any()
        np.testing.assert_array_equal(ds.get_gt_labels(),
                                      Toy(split=split).get_gt_labels())
        assert 'clean_label' not in ds.get_data_info(0)


def test_validation():
    for bad in (-0.1, 1.0, 1, True, '0.1', None):
        with pytest.raises(ValueError, match='label_noise=.* must be a '
                           'fraction in \\[0, 1\\)'):
            Toy(label_noise=bad)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match='label_noise_seed'):
            Toy(label_noise=0.1, label_noise_seed=bad)
    with pytest.raises(ValueError, match='at least 2 classes \\(got 1\\)'):
        Toy(k=1, label_noise=0.1)
    with pytest.raises(ValueError, match='got 0'):
        Toy(label_noise=0.1, metainfo=dict(classes=None))
    # a label outside the classes is reported, not silently wrapped around
    from debiascls.datasets import DatasetError
    with pytest.raises(DatasetError, match='out of range'):
        Toy(k=10, label_noise=0.9, metainfo=dict(classes=('a', 'b', 'c')))
    assert Toy(label_noise=0).label_noise == 0.0  # an int zero is fine


def test_real_dataset_train_noisy_valid_clean(tmp_path, t10k_root):
    root = tmp_path / 'pgd'
    generate_pgd_colored_mnist(str(root), str(t10k_root), ['1pct'])
    kw = dict(severity='1pct', label_noise=0.1, label_noise_seed=1,
              serialize_data=False)
    train = PGDColoredMNIST(str(root), split='train', **kw)
    clean = PGDColoredMNIST(str(root), split='train', serialize_data=False)
    assert train.get_noisy_mask().sum() == round(0.1 * len(train)) == 14
    np.testing.assert_array_equal(train.get_clean_labels(),
                                  clean.get_gt_labels())
    valid = PGDColoredMNIST(str(root), split='valid', **kw)
    np.testing.assert_array_equal(
        valid.get_gt_labels(),
        PGDColoredMNIST(str(root), split='valid').get_gt_labels())
    assert not valid.get_noisy_mask().any()
