"""Stand-in copies of the real-world layouts (write_sample_layout and
``prepare_data.py sample-layout``), read back with the real loaders."""
import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from layouts import FAST, build_config_dataset, check_packed

from debiascls.datasets import (BAR, BFFHQ, DogsAndCats, Waterbirds,
                                write_sample_layout)
from debiascls.datasets.sample_layouts import MARKER
from debiascls.datasets.waterbirds import conflicting_count, severity_ratio

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'data', 'prepare_data.py')

LOADERS = dict(bffhq=BFFHQ, dogs_and_cats=DogsAndCats, bar=BAR,
               waterbirds=Waterbirds)
#: The counts of a default copy (40 aligned per class, 4 per valid/test
#: cell): split key -> (samples, aligned, conflicting).
DEFAULT_COUNTS = {
    'bffhq': {'train/0.5pct': (82, 80, 2), 'train/1pct': (82, 80, 2),
              'train/2pct': (82, 80, 2), 'train/5pct': (84, 80, 4),
              'valid': (16, 8, 8), 'test': (16, 8, 8)},
    'dogs_and_cats': {'train/1pct': (82, 80, 2), 'valid/1pct': (16, 8, 8),
                      'train/5pct': (84, 80, 4), 'valid/5pct': (16, 8, 8),
                      'test': (16, 8, 8)},
    'bar': {'train/1pct': (246, 240, 6), 'train/5pct': (253, 240, 13),
            'valid': (144, 24, 120), 'test': (144, 24, 120)},
    'waterbirds': {'train': (84, 80, 4), 'valid': (16, 8, 8),
                   'test': (16, 8, 8)},
}
#: One file of each copy, for byte comparisons.
ONE_FILE = dict(bffhq='1pct/conflict/1/00083_1_0.png',
                dogs_and_cats='test/1/00110_1_0.png',
                bar='train/conflict/5pct/3/racing_00253_3_4.jpg',
                waterbirds='001.Black_footed_Albatross/'
                'Black_footed_Albatross_00106.jpg')


def _load(dataset, root, split, severity=None, **kw):
    return LOADERS[dataset](str(root), severity=severity, split=split, **kw,
                            **FAST)


def _cells(ds) -> np.ndarray:
    k = len(ds.metainfo['classes'])
    cells = np.zeros((k, len(ds.metainfo['bias_classes'])), int)
    np.add.at(cells, (ds.get_gt_labels(), ds.get_bias_labels()), 1)
    return cells


def _split_datasets(dataset, root):
    """{split key of write_sample_layout: dataset}, every split and
    severity, read with the real loader."""
    sevs = LOADERS[dataset].SEVERITIES
    if dataset == 'waterbirds':
        return {s: _load(dataset, root, s) for s in ('train', 'valid',
                                                     'test')}
    out = {f'train/{s}': _load(dataset, root, 'train', s) for s in sevs}
    if dataset == 'dogs_and_cats':
        out.update({f'valid/{s}': _load(dataset, root, 'valid', s)
                    for s in sevs})
    else:
        out['valid'] = _load(dataset, root, 'valid')
    out['test'] = _load(dataset, root, 'test')
    return out


@pytest.fixture(scope='module')
def copies(tmp_path_factory):
    """A default copy of each data set: {dataset: (root, counts)}."""
    base = tmp_path_factory.mktemp('sample_layouts')
    return {d: (base / d, write_sample_layout(d, str(base / d)))
            for d in LOADERS}


@pytest.mark.parametrize('dataset', list(LOADERS))
def test_every_split_reads_back_with_the_loader(copies, dataset):
    root, counts = copies[dataset]
    expected = {k: dict(num_samples=n, num_aligned=a, num_conflicting=c)
                for k, (n, a, c) in DEFAULT_COUNTS[dataset].items()}
    assert counts == expected
    loader = LOADERS[dataset]
    aligned = np.asarray(loader.METAINFO['aligned_bias'])
    num_classes = len(loader.METAINFO['classes'])
    datasets = _split_datasets(dataset, root)
    assert sorted(datasets) == sorted(counts)
    for key, ds in datasets.items():
        conflicting = int(ds.get_conflicting_mask().sum())
        assert (len(ds), len(ds) - conflicting, conflicting) == \
            DEFAULT_COUNTS[dataset][key], key
        cells = _cells(ds)
        if key.startswith(('valid', 'test')):
            assert (cells == 4).all(), (key, cells)
            continue
        # train: 40 aligned per class, the conflicting ones spread evenly
        # over the classes (at least one each), never in an aligned cell
        assert cells[np.arange(num_classes), aligned].tolist() == \
            [40] * num_classes
        per_class = cells.sum(1) - 40
        assert per_class.min() >= 1 and np.ptp(per_class) <= 1
        if dataset == 'bar':  # the loader's (t + 1) mod 6 convention
            nxt = (np.arange(6) + 1) % 6
            assert (cells[np.arange(6), nxt] == per_class).all()
    # sorted paths in the layout the loaders read; the images decode
    train = datasets[list(datasets)[0]]
    info = train.get_data_info(len(train) - 1)
    img = cv2.imread(info['img_path'])
    assert img.shape == (64, 64, 3)
    ext = '.jpg' if dataset in ('bar', 'waterbirds') else '.png'
    assert info['img_path'].endswith(ext)


@pytest.mark.parametrize('dataset', ['bffhq', 'dogs_and_cats', 'bar'])
def test_conflicting_ratio_per_severity(copies, tmp_path, dataset):
    """round(r * n / (1 - r)) conflicting train images (halves up), at
    least one per class: with 40 aligned per class the floor decides the
    low severities; with 250 per class the ratio is r up to rounding."""
    loader = LOADERS[dataset]
    k = len(loader.METAINFO['classes'])
    root, _ = copies[dataset]
    big = tmp_path / 'big'
    write_sample_layout(dataset, str(big), aligned_per_class=250, size=16,
                        valid_per_cell=1, test_per_cell=1)
    for path, per_class in ((root, 40), (big, 250)):
        n = per_class * k
        for sev in loader.SEVERITIES:
            ds = _load(dataset, path, 'train', sev, verify_files=False)
            n_conf = int(ds.get_conflicting_mask().sum())
            r = float(severity_ratio(sev))
            assert n_conf == max(conflicting_count(n, severity_ratio(sev)),
                                 k), (path, sev)
            if per_class == 250:
                assert abs(n_conf / len(ds) - r) < 1 / n, sev
    # bffhq 1pct at 250 per class: 5.05 -> 5 of 505
    if dataset == 'bffhq':
        assert len(_load(dataset, big, 'train', '1pct')) == 505


def test_waterbirds_severities_through_the_loader_subsampling(copies):
    root, _ = copies['waterbirds']
    standard = _load('waterbirds', root, 'train')
    assert len(standard) == 84 and standard.subsample_counts is None
    for sev, kept in (('0.5pct', 0), ('1pct', 1), ('2pct', 2), ('5pct', 4)):
        ds = _load('waterbirds', root, 'train', sev, data_seed=3)
        assert ds.subsample_counts['aligned'] == 80
        assert ds.subsample_counts['conflicting_available'] == 4
        assert ds.subsample_counts['conflicting'] == kept == \
            conflicting_count(80, severity_ratio(sev))
        assert int(ds.get_conflicting_mask().sum()) == kept
        assert len(ds) == 80 + kept
    # metadata.csv of the standard release, species folders, split codes
    with open(root / 'metadata.csv') as f:
        lines = f.read().splitlines()
    assert lines[0] == 'img_id,img_filename,y,split,place,place_filename'
    assert len(lines) == 1 + 84 + 16 + 16
    assert sorted(p for p in os.listdir(root) if '.' in p[:4]) == [
        '001.Black_footed_Albatross', '026.Bronzed_Cowbird',
        '059.California_Gull', '094.White_breasted_Nuthatch']
    assert sorted({line.split(',')[3] for line in lines[1:]}) == \
        ['0', '1', '2']


def test_images_carry_the_bias_and_the_class(copies):
    """Bias: the background colour (nearest mean colour); class: where the
    bright square is (nearest class position of the brightest block)."""
    root, _ = copies['bar']
    test = _load('bar', root, 'test')
    imgs = np.stack([cv2.imread(test.get_data_info(i)['img_path'])
                     for i in range(len(test))]).astype(float)
    targets, biases = test.get_gt_labels(), test.get_bias_labels()
    colours = np.median(imgs.reshape(len(imgs), -1, 3), axis=1)
    centroids = np.stack([colours[biases == b].mean(0) for b in range(6)])
    nearest = np.linalg.norm(colours[:, None] - centroids, axis=2).argmin(1)
    assert (nearest == biases).mean() == 1.0
    gray = imgs.mean(3)
    blurred = np.stack([cv2.blur(g, (16, 16)) for g in gray])
    peaks = blurred.reshape(len(gray), -1).argmax(1)
    pos = np.stack(np.unravel_index(peaks, (64, 64)), 1)
    centres = np.stack([pos[targets == t].mean(0) for t in range(6)])
    nearest = np.linalg.norm(pos[:, None] - centres, axis=2).argmin(1)
    assert (nearest == targets).mean() >= 0.95


def test_marker(copies):
    for dataset, (root, counts) in copies.items():
        text = (root / MARKER).read_text()
        name = LOADERS[dataset].__name__
        assert text.startswith(f'GENERATED STAND-IN for {name} -- NOT the '
                               f'{name} data set.')
        assert f'mean nothing about the real {name} data set' in text
        assert f'dataset: {dataset}\nseed: 0\n' in text
        sevs = ' '.join(LOADERS[dataset].SEVERITIES)
        assert f'severities: {sevs}\naligned_per_class: 40\n' in text
        for key, c in counts.items():
            assert (f'  {key}: {c["num_samples"]} samples '
                    f'({c["num_aligned"]} aligned') in text


@pytest.mark.parametrize('dataset', list(LOADERS))
def test_deterministic_for_a_seed_and_different_across_seeds(
        copies, tmp_path, dataset):
    root, _ = copies[dataset]
    again = tmp_path / 'again'
    other = tmp_path / 'other'
    write_sample_layout(dataset, str(again))
    write_sample_layout(dataset, str(other), seed=1)
    rel = ONE_FILE[dataset]
    assert (again / rel).read_bytes() == (root / rel).read_bytes()
    assert (other / rel).read_bytes() != (root / rel).read_bytes()

    def tree(path):
        return sorted(osp.relpath(osp.join(d, f), path)
                      for d, _, fs in os.walk(path) for f in fs)

    assert tree(again) == tree(root) == tree(other)
    for rel in tree(root)[::17]:
        assert (again / rel).read_bytes() == (root / rel).read_bytes(), rel
    assert (other / MARKER).read_text().count('seed: 1\n') == 1


def test_a_part_does_not_depend_on_the_other_severities(copies, tmp_path):
    root, _ = copies['bffhq']
    one = tmp_path / 'one'
    counts = write_sample_layout('bffhq', str(one), severities=['2pct'])
    assert list(counts) == ['train/2pct', 'valid', 'test']
    assert sorted(os.listdir(one)) == ['2pct', MARKER, 'test', 'valid']
    for rel in ('2pct/conflict/0/00084_0_1.png', '2pct/align/1/00079_1_1.png',
                'valid/00105_1_1.png', 'test/00121_1_1.png'):
        assert (one / rel).read_bytes() == (root / rel).read_bytes(), rel


def test_never_overwrites(copies, tmp_path):
    root, counts = copies['dogs_and_cats']
    marker = root / MARKER
    before = {p: p.stat().st_mtime_ns for p in (marker, root / ONE_FILE[
        'dogs_and_cats'])}
    # the same copy: nothing written, the counts returned
    assert write_sample_layout('dogs_and_cats', str(root)) == counts
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # another copy (seed, sizes, severities or data set)
    for kw in (dict(seed=1), dict(aligned_per_class=10),
               dict(severities=['1pct'])):
        with pytest.raises(ValueError, match='already holds a different '
                           'stand-in copy') as e:
            write_sample_layout('dogs_and_cats', str(root), **kw)
        assert f'"{root}"' in str(e.value)
    with pytest.raises(ValueError, match=f'"{root}" already holds'):
        write_sample_layout('bffhq', str(root))
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # a folder with other files (e.g. the real data set)
    real = tmp_path / 'bffhq'
    (real / 'valid').mkdir(parents=True)
    (real / 'valid' / '00001_0_0.png').write_bytes(b'real')
    with pytest.raises(ValueError, match=f'"{real}" is not empty and has '
                       f'no {MARKER}'):
        write_sample_layout('bffhq', str(real))
    assert os.listdir(real) == ['valid']
    assert (real / 'valid' / '00001_0_0.png').read_bytes() == b'real'
    afile = tmp_path / 'afile'
    afile.write_text('x')
    with pytest.raises(ValueError, match=f'"{afile}" exists and is not a '
                       'folder'):
        write_sample_layout('bar', str(afile))
    # an empty folder is fine; nothing is left next to the copy
    empty = tmp_path / 'empty'
    empty.mkdir()
    write_sample_layout('waterbirds', str(empty), aligned_per_class=2,
                        size=16)
    assert (empty / MARKER).is_file()
    assert sorted(os.listdir(tmp_path)) == ['afile', 'bffhq', 'empty']


@pytest.mark.parametrize('kw,message', [
    (dict(dataset='cifar10c'), "dataset='cifar10c' is not one of"),
    (dict(severities=['0.5pct']), "the dogs_and_cats loader accepts "
     "('1pct', '5pct')"),
    (dict(size=8), 'size=8 must be an integer >= 16'),
    (dict(aligned_per_class=0), 'aligned_per_class=0 must be'),
    (dict(valid_per_cell=0), 'valid_per_cell=0 must be'),
    (dict(seed=-1), 'seed=-1 must be'),
])
def test_bad_arguments(tmp_path, kw, message):
    kw = dict(dict(dataset='dogs_and_cats', root=str(tmp_path / 'x')), **kw)
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(
            ')', r'\)')):
        write_sample_layout(**kw)
    assert not (tmp_path / 'x').exists()


@pytest.mark.parametrize('dataset', list(LOADERS))
def test_shipped_dataset_config_reads_a_copy(copies, dataset):
    """The train split of configs/_base_/datasets/<dataset>.py (severity
    1pct) with data_root at the copy, through its pipeline."""
    root, _ = copies[dataset]
    _, ds = build_config_dataset(f'{dataset}.py', root, 'train')
    # Waterbirds: the loader keeps 1 of the 4 conflicting images at 1pct
    assert len(ds) == dict(bffhq=82, dogs_and_cats=82, bar=246,
                           waterbirds=81)[dataset]
    check_packed(ds[len(ds) - 1], ds, len(ds) - 1)


# ---------------------------------------------------------------------- #
# tools/data/prepare_data.py sample-layout (in-process)
# ---------------------------------------------------------------------- #
@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('prepare_data_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def call(tool, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def run(*args):
        status = tool.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def test_cli_writes_keeps_and_refuses(call, tmp_path):
    args = ('sample-layout', 'bffhq', '--out', 'sb', '--seed', 2,
            '--aligned-per-class', 100, '--size', 32)
    status, out, err = call(*args)
    assert status == 0 and err == ''
    lines = out.splitlines()
    assert lines[0] == ('Stand-in BFFHQ copy (synthetic, NOT the BFFHQ data '
                        'set), seed 2, into sb')
    assert lines[1:7] == [
        '  wrote   train/0.5pct: 202 samples (200 aligned, 2 conflicting)',
        '  wrote   train/1pct: 202 samples (200 aligned, 2 conflicting)',
        '  wrote   train/2pct: 204 samples (200 aligned, 4 conflicting)',
        '  wrote   train/5pct: 211 samples (200 aligned, 11 conflicting)',
        '  wrote   valid: 16 samples (8 aligned, 8 conflicting)',
        '  wrote   test: 16 samples (8 aligned, 8 conflicting)']
    assert f'  marker  {osp.join("sb", MARKER)}' in lines
    assert 'mean nothing about BFFHQ' in out
    assert ('Next: python tools/train.py configs/methods/ie_bffhq_1pct.py '
            '--cfg-options data_root=sb classifier.backbone.pretrained=None'
            ) in lines
    assert lines[-1].startswith('Done in ')
    assert 'seed: 2\n' in (tmp_path / 'sb' / MARKER).read_text()
    ds = BFFHQ(str(tmp_path / 'sb'), severity='5pct', split='train', **FAST)
    assert len(ds) == 211 and cv2.imread(ds.get_data_info(0)[
        'img_path']).shape == (32, 32, 3)
    # again: kept; other parameters: one-line error
    status, out, err = call(*args)
    assert status == 0 and '  kept    sb (the same stand-in copy exists)' \
        in out and 'wrote' not in out
    status, out, err = call('sample-layout', 'bffhq', '--out', 'sb')
    assert status == 1 and err.count('\n') == 1
    assert err.startswith('error: "sb" already holds a different stand-in '
                          'copy')


def test_cli_waterbirds_reports_the_loader_subsampling(call, tmp_path):
    status, out, _ = call('sample-layout', 'waterbirds', '--out', 'wb',
                          '--size', 16)
    assert status == 0
    assert '  wrote   train: 84 samples (80 aligned, 4 conflicting)' in out
    assert ('  loader  train/1pct (subsampled by Waterbirds): 81 samples '
            '(80 aligned, 1 conflicting)') in out
    assert 'configs/methods/ie_waterbirds_1pct.py --cfg-options ' \
        'data_root=wb classifier.backbone.pretrained=None' in out
    assert (tmp_path / 'wb' / 'metadata.csv').is_file()


@pytest.mark.parametrize('argv,message', [
    (['sample-layout', 'cifar10c', '--out', 'x'], "invalid choice: "
     "'cifar10c'"),
    (['sample-layout', 'bar'], 'the following arguments are required: '
     '--out'),
])
def test_cli_bad_command_lines(call, capsys, tmp_path, argv, message):
    with pytest.raises(SystemExit) as e:
        call(*argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert 'usage:' in err and message in err
    assert os.listdir(tmp_path) == []
