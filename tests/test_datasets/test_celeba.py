"""CelebA with target / bias attributes: a tiny copy in torchvision's layout
(list_attr_celeba.txt, list_eval_partition.txt, img_align_celeba/), the
official partition, the majority rule for the aligned bias, errors and the
config."""
import os

import numpy as np
import pytest
from layouts import FAST, build_config_dataset, check_packed, write_image

from debiascls.datasets import CelebABias, DatasetError

ATTRS = ('5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald '
         'Bangs Big_Lips Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair '
         'Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair '
         'Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache '
         'Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose '
         'Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair '
         'Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick '
         'Wearing_Necklace Wearing_Necktie Young').split()

#: (partition, Heavy_Makeup, Male, Blond_Hair) -> count. Train: made-up
#: faces are mostly women, the others mostly men; blond: mostly women,
#: non-blond: 7 women against 6 men.
GROUPS = {(0, 1, 0, 1): 5, (0, 1, 0, 0): 4, (0, 1, 1, 0): 1,
          (0, 0, 1, 0): 5, (0, 0, 0, 0): 3, (0, 0, 0, 1): 1,
          (1, 1, 0, 0): 2, (1, 0, 1, 0): 2, (1, 0, 0, 1): 1,
          (2, 1, 1, 1): 1, (2, 0, 0, 0): 2, (2, 1, 0, 0): 2}


def write_celeba(root, groups=GROUPS, images=True):
    """A tiny CelebA; returns ``{file: (partition, makeup, male, blond)}``."""
    os.makedirs(str(root), exist_ok=True)
    rows, parts, info = [], [], {}
    i = 0
    for (part, makeup, male, blond), n in groups.items():
        for _ in range(n):
            i += 1
            name = f'{i:06d}.jpg'
            values = ['-1'] * len(ATTRS)
            for attr, v in (('Heavy_Makeup', makeup), ('Male', male),
                            ('Blond_Hair', blond), ('Young', i % 2)):
                values[ATTRS.index(attr)] = '1' if v else '-1'
            rows.append(f'{name} ' + ' '.join(f'{v:>2}' for v in values))
            parts.append(f'{name} {part}')
            info[name] = (part, makeup, male, blond)
            if images:
                write_image(os.path.join(str(root), 'img_align_celeba', name),
                            value=i, size=(20, 16))
    with open(os.path.join(str(root), 'list_attr_celeba.txt'), 'w') as f:
        f.write(f'{i}\n' + ' '.join(ATTRS) + ' \n' + '\n'.join(rows) + '\n')
    with open(os.path.join(str(root), 'list_eval_partition.txt'), 'w') as f:
        f.write('\n'.join(parts) + '\n')
    return info


@pytest.fixture(scope='module')
def celeba(tmp_path_factory):
    root = tmp_path_factory.mktemp('celeba_root') / 'celeba'
    return root, write_celeba(root)


def _cb(root, split, **kw):
    return CelebABias(str(root), split=split, **kw, **FAST)


def test_partition_and_labels(celeba):
    root, info = celeba
    sizes = {}
    for split, part in (('train', 0), ('valid', 1), ('test', 2)):
        ds = _cb(root, split)
        sizes[split] = len(ds)
        names = [os.path.basename(ds.get_data_info(i)['img_path'])
                 for i in range(len(ds))]
        assert names == sorted(n for n, v in info.items() if v[0] == part)
        for i, name in enumerate(names):
            assert ds.get_gt_labels()[i] == info[name][1]  # Heavy_Makeup
            assert ds.get_bias_labels()[i] == info[name][2]  # Male
    assert sizes == dict(train=19, valid=5, test=5)
    ds = _cb(root, 'test')
    assert ds.metainfo['classes'] == ('not Heavy_Makeup', 'Heavy_Makeup')
    assert ds.metainfo['bias_classes'] == ('not Male', 'Male')
    assert ds.test_mode


def test_aligned_bias_is_the_train_majority(celeba):
    root, _ = celeba
    # PGD: made-up -> female (0), not made-up -> male (1), for every split
    for split in ('train', 'test'):
        assert _cb(root, split).metainfo['aligned_bias'] == (1, 0)
    train = _cb(root, 'train')
    assert train.get_conflicting_mask().sum() == 1 + 4  # made-up man, women
    # LfF's Blond_Hair: both classes are majority female here
    lff = _cb(root, 'train', target_attr='Blond_Hair')
    assert lff.metainfo['aligned_bias'] == (0, 0)
    assert lff.get_gt_labels().sum() == 6
    # LfF's code convention: aligned when the values are equal
    eq = _cb(root, 'valid', target_attr='Blond_Hair', aligned_bias=(0, 1))
    assert eq.metainfo['aligned_bias'] == (0, 1)
    # valid: 2 non-blond women, 2 non-blond men, 1 blond woman
    assert eq.get_aligned_mask().tolist() == [True, True, False, False,
                                              False]


def test_parent_folder_and_errors(celeba, tmp_path):
    root, _ = celeba
    assert len(_cb(root.parent, 'valid')) == 5  # torchvision's root
    with pytest.raises(DatasetError, match='does not exist') as e:
        _cb(tmp_path / 'none', 'train')
    assert 'img_align_celeba.zip' in str(e.value)
    with pytest.raises(ValueError, match='attribute "Blond" is not in'):
        _cb(root, 'train', target_attr='Blond')
    with pytest.raises(ValueError, match='both "Male"'):
        _cb(root, 'train', target_attr='Male')
    with pytest.raises(ValueError, match='split="val"'):
        _cb(root, 'val')
    with pytest.raises(ValueError, match='aligned_bias'):
        _cb(root, 'train', aligned_bias=(0, 2))
    bad = tmp_path / 'bad'
    write_celeba(bad, images=False)
    with pytest.raises(DatasetError, match='img_align_celeba" does not'):
        _cb(bad, 'train')
    assert len(_cb(bad, 'train', verify_files=False)) == 19
    write_celeba(bad)
    (bad / 'img_align_celeba' / '000003.jpg').unlink()
    with pytest.raises(DatasetError, match='000003.jpg" is missing'):
        _cb(bad, 'train')  # verify_files finds the missing image
    assert len(_cb(bad, 'valid')) == 5
    attr = bad / 'list_attr_celeba.txt'
    lines = attr.read_text().splitlines()
    attr.write_text('\n'.join(lines[:5] + [lines[5] + ' 0'] + lines[6:]))
    with pytest.raises(DatasetError, match='Line 6 of'):
        _cb(bad, 'train', verify_files=False)
    attr.write_text('\n'.join(lines[:-1]))
    with pytest.raises(DatasetError, match='declares 29 images'):
        _cb(bad, 'train', verify_files=False)
    attr.write_text('\n'.join(lines))
    part = bad / 'list_eval_partition.txt'
    part.write_text('\n'.join(part.read_text().splitlines()[1:]))
    with pytest.raises(DatasetError, match='000001.jpg.*no line'):
        _cb(bad, 'train', verify_files=False)
    part.unlink()
    with pytest.raises(DatasetError, match='list_eval_partition.txt" does'):
        _cb(bad, 'train', verify_files=False)


def test_config_pipeline(celeba):
    root, _ = celeba
    cfg, ds = build_config_dataset('celeba.py', root, 'valid')
    assert cfg.val_cfg.selection_metric == 'valid/unbiased_acc'
    assert cfg.data_preprocessor['mean'][0] == pytest.approx(0.485 * 255)
    assert cfg.train_dataloader.dataset.target_attr == 'Heavy_Makeup'
    check_packed(ds[2], ds, 2)
    assert np.isin(ds.get_bias_labels(), (0, 1)).all()
