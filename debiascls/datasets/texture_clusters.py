"""Texture clusters of the 9-class ImageNet val images (ReBias Appendix F),
the proxy bias labels of :class:`~debiascls.datasets.ImageNet9`'s test
split and of :class:`~debiascls.evaluation.TextureUnbiasedAccuracy`.

Recipe (paper, Appendix F; the step-by-step of ReBias's
``make_clusters.py``):

1. every val image of the 42 wnids, resized (shorter edge 256) and centre
   cropped to 224 as for evaluation, normalised with the ImageNet mean/std;
2. its feature map at VGG16 ``relu1_2`` (ImageNet weights), ``C = 64``
   channels: the Gram matrix ``G = F F^T / (C H W)`` of the ``C x HW``
   matrix ``F``, flattened (``C^2`` values) and L2-normalised;
3. mini-batch k-means with k = 9 and batch size 1,024 (scikit-learn's
   ``MiniBatchKMeans``, as ReBias), repeated with three seeds: three
   clusterings.

Paper vs code: the paper says ``relu1_2``; ``make_clusters.py`` slices
``vgg16.features[:-16]``, i.e. up to ``conv3_3`` (before its ReLU, 256
channels). We follow the paper by default; ``layer='conv3_3'`` gives the
code's features. ReBias's published clusters came from its code; as the
clusters ship with ReBias, the difference only matters for clusters made
here. ``n_init=3`` is scikit-learn's default of ReBias's time (before 1.4),
which the code relied on.

The result is written (atomically) in ReBias's cluster-file format:
``path,category,cluster1,cluster2,cluster3`` (see
:mod:`debiascls.datasets.imagenet9`).
"""
import csv
import io
import os
import pickle
from typing import Dict, List, Optional, Sequence
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn as nn
from torchvision.models import VGG16_Weights

from .base_dataset import DatasetError
from .imagenet9 import (CLUSTER_CSV_HEADER, IMAGENET9_ALL_WNIDS,
                        IMAGENET9_CLASSES, WNID_TO_CLASS, imagenet_hint,
                        list_wnid_images, verify_image_files)
from .transforms import CenterCrop, LoadImageFromFile, Resize

TORCHVISION_VGG16_URL: str = VGG16_Weights.IMAGENET1K_V1.url
#: Number of leading modules of torchvision's ``vgg16().features`` that end
#: at each layer: ``relu1_2`` (the paper) and ``conv3_3`` (ReBias's
#: ``features[:-16]``).
TEXTURE_LAYERS: Dict[str, int] = {'relu1_2': 4, 'conv3_3': 15}
#: VGG16 ("D") up to conv3_3: output channels of the convolutions, 'M' for a
#: max-pool; a ReLU follows each convolution (torchvision's module order).
_VGG16_HEAD = (64, 64, 'M', 128, 128, 'M', 256, 256, 256)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Mini-batch k-means of the paper (Appendix F) and of ``make_clusters.py``.
DEFAULT_K = 9
DEFAULT_SEEDS = (0, 1, 2)
KMEANS_BATCH_SIZE = 1024
KMEANS_N_INIT = 3


def torchvision_vgg16_path() -> str:
    """Where torchvision caches the ImageNet VGG16 weights
    (``<torch.hub.get_dir()>/checkpoints/vgg16-<hash>.pth``; honours
    ``$TORCH_HOME``)."""
    filename = os.path.basename(urlparse(TORCHVISION_VGG16_URL).path)
    return os.path.join(torch.hub.get_dir(), 'checkpoints', filename)


def resolve_vgg16_weights(weights: Optional[str] = None,
                          allow_download: bool = False) -> str:
    """The VGG16 state dict to load: ``weights`` if given, else torchvision's
    cache (:func:`torchvision_vgg16_path`), downloaded there only when
    ``allow_download``.

    Raises:
        FileNotFoundError: the file is missing; says which file to put where.
    """
    url = TORCHVISION_VGG16_URL
    if weights is not None:
        path = os.path.expanduser(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f'VGG16 weights: no file at "{os.path.abspath(path)}". '
                'Expected a torchvision vgg16 state dict (.pth): download '
                f'{url} and pass its path, or put it at '
                f'"{torchvision_vgg16_path()}" and pass no weights path.')
        return path
    path = torchvision_vgg16_path()
    if os.path.isfile(path):
        return path
    if allow_download:
        # torchvision's downloader stores the file at ``path``.
        VGG16_Weights.IMAGENET1K_V1.get_state_dict(progress=True,
                                                   check_hash=True)
        return path
    raise FileNotFoundError(
        f'VGG16 weights: no file at "{path}" (torchvision\'s cache) and no '
        f'weights path given. Download {url} on a machine with internet and '
        'put it at exactly that path (the directory is '
        'torch.hub.get_dir()/checkpoints, set by $TORCH_HOME), or pass its '
        'path as the weights, or allow the download (--allow-download) when '
        'online.')


def vgg16_trunk(num_modules: int) -> nn.Sequential:
    """The first ``num_modules`` modules of torchvision's
    ``vgg16().features`` (same indices, hence the same state-dict keys
    ``<i>.weight``), randomly initialised."""
    layers: List[nn.Module] = []
    in_ch = 3
    for item in _VGG16_HEAD:
        if item == 'M':
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_ch, item, 3, padding=1),
                       nn.ReLU(inplace=True)]
            in_ch = item
    if not 0 < num_modules <= len(layers):
        raise ValueError(f'vgg16_trunk: num_modules={num_modules} must be in '
                         f'1..{len(layers)}.')
    return nn.Sequential(*layers[:num_modules])


def build_texture_extractor(weights: Optional[str] = None,
                            layer: str = 'relu1_2',
                            allow_download: bool = False) -> nn.Sequential:
    """VGG16 up to ``layer`` with the weights of ``weights`` (a torchvision
    vgg16 state dict: ``features.<i>.weight`` keys; the classifier and the
    layers after ``layer`` may be absent), in eval mode.

    Raises:
        FileNotFoundError: no weights file (see :func:`resolve_vgg16_weights`).
        ValueError: unknown layer, or a file that is not a VGG16 state dict.
    """
    if layer not in TEXTURE_LAYERS:
        raise ValueError(f'layer="{layer}" is not one of '
                         f'{sorted(TEXTURE_LAYERS)} (the paper: relu1_2).')
    path = resolve_vgg16_weights(weights, allow_download)
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        raise ValueError(
            f'VGG16 weights "{path}" hold more than tensors and cannot be '
            'loaded with weights_only=True; save only the state dict '
            f'(torch.save(model.state_dict(), path)). Original error: {e}'
        ) from e
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'VGG16 weights "{path}" are not a state dict (got '
                         f'{type(checkpoint).__name__}).')
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    trunk = vgg16_trunk(TEXTURE_LAYERS[layer])
    wanted = {}
    problems = []
    for key, param in trunk.state_dict().items():
        value = state.get(f'features.{key}')
        if value is None:
            problems.append(f'features.{key} missing')
        elif not torch.is_tensor(value) or value.shape != param.shape:
            shape = tuple(value.shape) if torch.is_tensor(value) else type(
                value).__name__
            problems.append(f'features.{key}: {shape} instead of '
                            f'{tuple(param.shape)}')
        else:
            wanted[key] = value
    if problems:
        raise ValueError(
            f'VGG16 weights "{path}" do not fit torchvision\'s vgg16 up to '
            f'{layer}: {"; ".join(problems[:4])}. Use the torchvision vgg16 '
            f'state dict ({TORCHVISION_VGG16_URL}).')
    trunk.load_state_dict(wanted)
    return trunk.eval()


def gram_features(feature_maps: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` maps -> ``(B, C*C)`` flattened Gram matrices
    ``F F^T / (C H W)``, each L2-normalised."""
    b, c, h, w = feature_maps.shape
    flat = feature_maps.reshape(b, c, h * w)
    gram = torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)
    gram = gram.reshape(b, c * c)
    return gram / gram.norm(dim=1, keepdim=True).clamp_min(1e-12)


class _EvalImages(torch.utils.data.Dataset):
    """Images resized (shorter edge 256) and centre-cropped (224) as by the
    evaluation pipeline, as float tensors normalised with ImageNet's
    mean/std."""

    def __init__(self, paths: Sequence[str], resize: int = 256,
                 crop: int = 224) -> None:
        self.paths = list(paths)
        self.steps = [LoadImageFromFile(), Resize(resize), CenterCrop(crop)]
        self.mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, idx: int) -> torch.Tensor:
        results = dict(img_path=self.paths[idx])
        for step in self.steps:
            results = step(results)
        img = torch.from_numpy(np.ascontiguousarray(
            results['img'].transpose(2, 0, 1))).float() / 255.0
        return (img - self.mean) / self.std


@torch.no_grad()
def extract_texture_features(paths: Sequence[str],
                             extractor: nn.Module,
                             batch_size: int = 32,
                             device: str = 'cpu',
                             num_workers: int = 0,
                             resize: int = 256,
                             crop: int = 224) -> np.ndarray:
    """``(N, C*C)`` float32 L2-normalised Gram features of the images."""
    loader = torch.utils.data.DataLoader(
        _EvalImages(paths, resize, crop), batch_size=batch_size,
        shuffle=False, num_workers=num_workers)
    extractor = extractor.to(device).eval()
    out = []
    for images in loader:
        maps = extractor(images.to(device))
        out.append(gram_features(maps).float().cpu().numpy())
    return np.concatenate(out, axis=0)


def cluster_texture_features(features: np.ndarray,
                             k: int = DEFAULT_K,
                             seeds: Sequence[int] = DEFAULT_SEEDS,
                             batch_size: int = KMEANS_BATCH_SIZE,
                             n_init: int = KMEANS_N_INIT) -> np.ndarray:
    """``(len(seeds), N)`` cluster ids (0..k-1): one mini-batch k-means per
    seed (``random_state``)."""
    from sklearn.cluster import MiniBatchKMeans
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or len(features) < k:
        raise ValueError(f'k-means with k={k} needs at least k feature rows, '
                         f'got an array of shape {features.shape}.')
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f'seeds={list(seeds)} must be distinct and at least '
                         'one (ReBias: three clusterings).')
    labels = []
    for seed in seeds:
        km = MiniBatchKMeans(n_clusters=k, batch_size=batch_size,
                             random_state=int(seed), n_init=n_init)
        labels.append(km.fit(features).labels_.astype(np.int64))
    return np.stack(labels)


def format_cluster_csv(rel_paths: Sequence[str], labels: Sequence[int],
                       clusterings: np.ndarray) -> str:
    """The cluster file's text: ``path,category,cluster1..``, one row per
    image in the given order."""
    clusterings = np.asarray(clusterings)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(list(CLUSTER_CSV_HEADER) + [
        f'cluster{j + 1}' for j in range(len(clusterings))])
    for i, (rel, label) in enumerate(zip(rel_paths, labels)):
        writer.writerow([rel, IMAGENET9_CLASSES[label]]
                        + [int(c) for c in clusterings[:, i]])
    return buf.getvalue()


def make_texture_clusters(data_root: str,
                          out: str,
                          weights: Optional[str] = None,
                          allow_download: bool = False,
                          layer: str = 'relu1_2',
                          k: int = DEFAULT_K,
                          seeds: Sequence[int] = DEFAULT_SEEDS,
                          batch_size: int = 32,
                          device: str = 'cpu',
                          num_workers: int = 0,
                          kmeans_batch_size: int = KMEANS_BATCH_SIZE,
                          resize: int = 256,
                          crop: int = 224,
                          verify_files: bool = True) -> Dict[str, object]:
    """Cluster the val images of ``{data_root}/val/<wnid>/`` (the test
    split of :class:`~debiascls.datasets.ImageNet9`) and write the cluster
    file ``out`` (atomically). Returns a summary: ``out``, ``images``,
    ``layer``, ``feature_dim`` and ``cluster_sizes`` (one list per seed).
    ``resize`` / ``crop``: the evaluation resize (shorter edge) and centre
    crop (ReBias: 256 and 224).

    Raises:
        FileNotFoundError: no VGG16 weights (nothing is downloaded unless
            ``allow_download``).
        DatasetError: the val folder or a wnid folder is missing or empty.
        ValueError: bad layer, weights file, k or seeds.
    """
    from debiascls.utils.fileio import atomic_write_text
    extractor = build_texture_extractor(weights, layer, allow_download)
    val = os.path.join(data_root, 'val')
    where = 'texture clusters'
    if not os.path.isdir(val):
        raise DatasetError(f'{where}: folder "{val}" does not exist. '
                           f'{imagenet_hint(data_root)}')
    listed = list_wnid_images(val, IMAGENET9_ALL_WNIDS, where,
                              imagenet_hint(data_root))
    paths = [p for p, _ in listed]
    if verify_files:
        verify_image_files(paths, where, imagenet_hint(data_root))
    features = extract_texture_features(paths, extractor, batch_size, device,
                                        num_workers, resize, crop)
    clusterings = cluster_texture_features(features, k, seeds,
                                           kmeans_batch_size)
    rel = [f'{wnid}/{os.path.basename(p)}' for p, wnid in listed]
    labels = [WNID_TO_CLASS[wnid] for _, wnid in listed]
    atomic_write_text(format_cluster_csv(rel, labels, clusterings), out)
    sizes: List[List[int]] = [
        np.bincount(c, minlength=k).astype(int).tolist() for c in clusterings
    ]
    return dict(out=out, images=len(paths), layer=layer,
                feature_dim=int(features.shape[1]), cluster_sizes=sizes)


__all__ = [
    'TEXTURE_LAYERS', 'build_texture_extractor', 'cluster_texture_features',
    'extract_texture_features', 'format_cluster_csv', 'gram_features',
    'make_texture_clusters', 'resolve_vgg16_weights', 'torchvision_vgg16_path',
    'vgg16_trunk'
]
