"""Texture clusters (ReBias Appendix F): Gram features, the VGG16 trunk and
its weights (random weights saved under tmp_path; the offline error when
they are missing), mini-batch k-means, and the generator / CLI on a tiny
ImageNet copy whose cluster file ImageNet9 then reads."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from imagenet_layouts import make_imagenet, val_rel_paths
from threadpoolctl import threadpool_limits
from torchvision.models.vgg import cfgs, make_layers

from debiascls.datasets import ImageNet9, read_cluster_csv
from debiascls.datasets import texture_clusters as tc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TOOL = os.path.join(REPO, 'tools', 'data', 'make_texture_clusters.py')


@pytest.fixture(scope='module', autouse=True)
def one_blas_thread():
    """k-means on tiny arrays: OpenMP threads only wait for each other on
    shared CI cores (50 ms with one thread, over 1 s with two busy ones)."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope='module')
def imagenet(tmp_path_factory):
    return make_imagenet(tmp_path_factory.mktemp('in') / 'imagenet',
                         n_train=0, n_val=2)


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    """Random torchvision-vgg16 weights up to conv3_3 (plus an unused
    classifier entry), as a state dict file."""
    torch.manual_seed(0)
    trunk = make_layers(cfgs['D'])[:15]
    state = {f'features.{k}': v for k, v in trunk.state_dict().items()}
    state['classifier.6.bias'] = torch.zeros(1000)
    path = tmp_path_factory.mktemp('w') / 'vgg16.pth'
    torch.save(state, path)
    return str(path), state


@pytest.fixture
def no_cache(tmp_path, monkeypatch):
    """An empty torchvision cache; any download attempt fails the test."""
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))

    def no_download(*args, **kwargs):
        raise AssertionError('tried to download the VGG16 weights')

    monkeypatch.setattr(type(tc.VGG16_Weights.IMAGENET1K_V1),
                        'get_state_dict', no_download)
    path = tc.torchvision_vgg16_path()
    assert path.startswith(str(tmp_path / 'hub' / 'checkpoints'))
    return path


def test_gram_features_by_hand():
    # one image, C=2 channels, H*W=2 pixels: F = [[1, 2], [3, 0]]
    maps = torch.tensor([[[[1.0, 2.0]], [[3.0, 0.0]]]])
    gram = np.array([[5.0, 3.0], [3.0, 9.0]]) / 4  # F F^T / (C H W)
    expected = gram.ravel() / np.linalg.norm(gram.ravel())
    out = tc.gram_features(maps)
    assert out.shape == (1, 4)
    np.testing.assert_allclose(out.numpy()[0], expected, rtol=1e-6)
    # the scale of the maps does not matter after the L2 normalisation
    np.testing.assert_allclose(tc.gram_features(3 * maps).numpy(),
                               out.numpy(), rtol=1e-6)


def test_trunk_matches_torchvision_vgg16():
    reference = make_layers(cfgs['D'])
    for layer, n in tc.TEXTURE_LAYERS.items():
        ours = tc.vgg16_trunk(n)
        assert [type(m) for m in ours] == [type(m) for m in reference[:n]]
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: v.shape for k, v in reference[:n].state_dict().items()}
    # relu1_2 ends after the second ReLU, conv3_3 at the 7th convolution
    assert isinstance(tc.vgg16_trunk(4)[-1], torch.nn.ReLU)
    assert tc.vgg16_trunk(15)[-1].out_channels == 256


def test_extractor_loads_the_weights(weights):
    path, state = weights
    trunk = tc.build_texture_extractor(path, 'relu1_2')
    assert len(trunk) == 4 and not trunk.training
    assert torch.equal(trunk[2].weight, state['features.2.weight'])
    deep = tc.build_texture_extractor(path, 'conv3_3')
    assert torch.equal(deep[14].bias, state['features.14.bias'])
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        ref = torch.relu(torch.nn.functional.conv2d(
            torch.relu(torch.nn.functional.conv2d(
                x, state['features.0.weight'], state['features.0.bias'],
                padding=1)),
            state['features.2.weight'], state['features.2.bias'], padding=1))
        torch.testing.assert_close(trunk(x), ref)


def test_bad_weights_files(weights, tmp_path):
    path, state = weights
    partial = {k: v for k, v in state.items() if not k.startswith(
        'features.5')}
    torch.save(partial, tmp_path / 'partial.pth')
    tc.build_texture_extractor(str(tmp_path / 'partial.pth'), 'relu1_2')
    with pytest.raises(ValueError, match='features.5.weight missing'):
        tc.build_texture_extractor(str(tmp_path / 'partial.pth'), 'conv3_3')
    wrong = dict(state)
    wrong['features.0.weight'] = torch.zeros(64, 1, 3, 3)
    torch.save(wrong, tmp_path / 'wrong.pth')
    with pytest.raises(ValueError, match=r'features.0.weight: \(64, 1, 3, 3'):
        tc.build_texture_extractor(str(tmp_path / 'wrong.pth'))
    torch.save({'state_dict': {'module.' + k: v for k, v in state.items()}},
               tmp_path / 'wrapped.pth')
    tc.build_texture_extractor(str(tmp_path / 'wrapped.pth'))
    with pytest.raises(ValueError, match='layer="pool5"'):
        tc.build_texture_extractor(path, 'pool5')


def test_missing_weights_offline(no_cache, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        tc.build_texture_extractor(None)
    message = str(info.value)
    assert no_cache in message and tc.TORCHVISION_VGG16_URL in message
    assert '--allow-download' in message
    with pytest.raises(FileNotFoundError, match='no file at ".*nope.pth".*'
                       'download https://download.pytorch.org'):
        tc.build_texture_extractor(str(tmp_path / 'nope.pth'))
    # the cache is used when the file is there
    os.makedirs(os.path.dirname(no_cache))
    torch.save({f'features.{k}': v for k, v in
                tc.vgg16_trunk(4).state_dict().items()}, no_cache)
    assert len(tc.build_texture_extractor(None)) == 4


def test_kmeans_recovers_separated_groups():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 6) * 10
    truth = np.repeat(np.arange(3), 20)
    feats = centres[truth] + rng.normal(0, 0.1, (60, 6))
    labels = tc.cluster_texture_features(feats, k=3, seeds=(0, 1, 2))
    assert labels.shape == (3, 60)
    for row in labels:  # same partition up to the names of the clusters
        assert len(set(zip(row.tolist(), truth.tolist()))) == 3
    again = tc.cluster_texture_features(feats, k=3, seeds=(1, ))
    assert (again[0] == labels[1]).all()
    with pytest.raises(ValueError, match='at least k feature rows'):
        tc.cluster_texture_features(feats[:2], k=3)
    with pytest.raises(ValueError, match='distinct'):
        tc.cluster_texture_features(feats, k=3, seeds=(1, 1))


def test_generator_writes_a_file_imagenet9_reads(imagenet, weights,
                                                 tmp_path):
    out = str(tmp_path / 'clusters' / 'ours.csv')
    summary = tc.make_texture_clusters(
        imagenet, out, weights=weights[0], seeds=(0, 1, 2), k=9,
        resize=20, crop=16, batch_size=32)
    assert summary['images'] == 84 and summary['feature_dim'] == 64 * 64
    assert [sum(s) for s in summary['cluster_sizes']] == [84] * 3
    with open(out) as f:
        header, first = f.readline().strip(), f.readline().strip()
    assert header == 'path,category,cluster1,cluster2,cluster3'
    assert first.startswith('n01641577/ILSVRC2012_val_') and ',frog,' in first
    clusters, categories = read_cluster_csv(out)
    assert list(clusters) == val_rel_paths(imagenet)
    assert all(0 <= c < 9 for cs in clusters.values() for c in cs)
    assert len({cs for cs in clusters.values()}) > 1
    ds = ImageNet9(imagenet, split='test', cluster_file=out,
                   serialize_data=False)
    assert ds.metainfo['texture_clusters'] == np.array(
        list(clusters.values())).T.tolist()
    # deterministic: same weights, images and seed -> same clustering
    again = str(tmp_path / 'again.csv')
    tc.make_texture_clusters(imagenet, again, weights=weights[0], seeds=(1, ),
                             resize=20, crop=16)
    assert [c[0] for c in read_cluster_csv(again)[0].values()] == [
        c[1] for c in clusters.values()]
    assert not [n for n in os.listdir(tmp_path / 'clusters')
                if n.endswith('.tmp')]  # written atomically


def test_generator_missing_val(tmp_path, weights):
    with pytest.raises(tc.DatasetError, match=r'nope/val" does not exist'):
        tc.make_texture_clusters(str(tmp_path / 'nope'),
                                 str(tmp_path / 'c.csv'), weights=weights[0])


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('texture_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli(tool, imagenet, weights, tmp_path, capsys, no_cache):
    out = tmp_path / 'c.csv'
    status = tool.main(['--data-root', imagenet, '--out', str(out),
                        '--weights', weights[0], '--resize', '20', '--crop',
                        '16', '--num-workers', '0', '--seeds', '4', '5'])
    stdout, stderr = capsys.readouterr()
    assert status == 0, stderr
    assert f'wrote   {out}: 84 images, 2 clusterings' in stdout
    assert 'cluster_file=' in stdout
    assert open(out).readline().strip() == 'path,category,cluster1,cluster2'
    # an existing file is kept unless --overwrite
    status = tool.main(['--data-root', imagenet, '--out', str(out),
                        '--weights', weights[0]])
    assert status == 1 and 'pass --overwrite' in capsys.readouterr().err
    # offline and no weights: one line, which file to put where
    status = tool.main(['--data-root', imagenet, '--out',
                        str(tmp_path / 'd.csv')])
    err = capsys.readouterr().err
    assert status == 1 and err.count('\n') == 1
    assert err.startswith('error: VGG16 weights: no file at')
    assert no_cache in err
    assert not (tmp_path / 'd.csv').exists()


def test_cli_subprocess_offline_error(imagenet, tmp_path):
    env = dict(os.environ, TORCH_HOME=str(tmp_path / 'torch_home'))
    res = subprocess.run(
        [sys.executable, TOOL, '--data-root', imagenet, '--out',
         str(tmp_path / 'c.csv')], capture_output=True, text=True, env=env,
        timeout=120)
    assert res.returncode == 1
    assert res.stderr.startswith('error: VGG16 weights: no file at')
    assert str(tmp_path / 'torch_home') in res.stderr
