"""ResNet18 trunk from torchvision (He et al., CVPR 2016).

Used by DisEnt and BiasEnsemble (BFFHQ, Dogs & Cats, BAR; from scratch except
BAR), by LfF on CelebA (ImageNet-pretrained) and by PGD / CosFairNet on the
real-world sets. The trunk is torchvision's ``resnet18`` up to ``layer4``;
global pooling and the classifier belong to the head.
"""
import os
import pickle
from typing import Any, Dict, List, Mapping, Optional, Union
from urllib.parse import urlparse

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torchvision.models import ResNet18_Weights, resnet18

from debiascls.registry import MODELS

TORCHVISION_RESNET18_URL: str = ResNet18_Weights.IMAGENET1K_V1.url


def torchvision_resnet18_path() -> str:
    """Where torchvision caches the ImageNet ResNet18 weights.

    ``<torch.hub.get_dir()>/checkpoints/resnet18-<hash>.pth``; honours
    ``$TORCH_HOME``.
    """
    filename = os.path.basename(urlparse(TORCHVISION_RESNET18_URL).path)
    return os.path.join(torch.hub.get_dir(), 'checkpoints', filename)


def _strip(key: str, prefix: str) -> str:
    while key.startswith(prefix):
        key = key[len(prefix):]
    return key


def extract_backbone_state_dict(
        checkpoint: Mapping[str, Any]) -> Dict[str, Any]:
    """Turn a loaded checkpoint into a ResNet18 trunk state dict.

    Unwraps ``checkpoint['state_dict']`` if present, strips ``module.``
    prefixes (DataParallel/DDP), keeps only the ``backbone.`` entries when
    there are any (a full classifier checkpoint) and strips that prefix,
    then drops the ``fc.`` classifier entries.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError('expected a state dict (a mapping of names to '
                        f'tensors), got {type(checkpoint).__name__}')
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, Mapping):
        raise TypeError("checkpoint['state_dict'] is not a mapping but "
                        f'{type(state).__name__}')
    state = {_strip(k, 'module.'): v for k, v in state.items()}
    if any(k.startswith('backbone.') for k in state):
        state = {
            _strip(k[len('backbone.'):], 'module.'): v
            for k, v in state.items() if k.startswith('backbone.')
        }
    return {k: v for k, v in state.items() if not k.startswith('fc.')}


@MODELS.register_module()
class ResNet18(BaseModule):
    """torchvision ResNet18 without ``avgpool``/``fc``.

    Output: the ``layer4`` map, ``(B, 512, H/32, W/32)`` (7x7 for 224x224
    inputs). Submodule names match torchvision (``conv1``, ``bn1``,
    ``layer1`` .. ``layer4``), so torchvision state dicts load directly.

    Args:
        pretrained: ``None`` for torchvision's random initialisation
            (Kaiming-normal fan-out convolutions, BN weight 1 / bias 0);
            ``'torchvision'`` for the ImageNet ``IMAGENET1K_V1`` weights from
            torchvision's cache (:func:`torchvision_resnet18_path`); or a path
            to a local ``.pth`` state dict (optionally under ``'state_dict'``,
            ``module.``/``backbone.`` prefixes tolerated, ``fc.*`` dropped).
        in_channels: Input channels. ``conv1`` is rebuilt when not 3 (then
            the ImageNet ``conv1`` weights no longer fit).
        allow_download: Let torchvision download the ImageNet weights when
            ``pretrained='torchvision'`` and the cache is empty. Off by
            default: a missing file raises ``FileNotFoundError``.
        init_cfg: mmengine initialisation config, applied by
            :meth:`init_weights` before the pretrained weights are (re)loaded.
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 in_channels: int = 3,
                 allow_download: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained
        self.in_channels = in_channels
        self.allow_download = allow_download
        self.out_channels: int = 512

        trunk = resnet18(weights=None)
        if in_channels != 3:
            trunk.conv1 = nn.Conv2d(
                in_channels, 64, kernel_size=7, stride=2, padding=3,
                bias=False)
        self.conv1 = trunk.conv1
        self.bn1 = trunk.bn1
        self.relu = trunk.relu
        self.maxpool = trunk.maxpool
        self.layer1 = trunk.layer1
        self.layer2 = trunk.layer2
        self.layer3 = trunk.layer3
        self.layer4 = trunk.layer4
        del trunk

        self._default_init()
        if pretrained is not None:
            self.load_pretrained()

    def _default_init(self) -> None:
        """torchvision's ResNet init (``zero_init_residual=False``)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(
                    m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """Re-draw the random init (or ``init_cfg``), then load
        ``pretrained`` if set, so pretrained weights survive a parent's
        ``init_cfg``."""
        super().init_weights()
        if self.init_cfg is None:
            self._default_init()
        if self.pretrained is not None:
            self.load_pretrained()

    def _checkpoint_path(self) -> str:
        assert self.pretrained is not None
        url = TORCHVISION_RESNET18_URL
        if self.pretrained == 'torchvision':
            path = torchvision_resnet18_path()
            if os.path.isfile(path):
                return path
            if self.allow_download:
                # torchvision's downloader stores the file at ``path``
                ResNet18_Weights.IMAGENET1K_V1.get_state_dict(
                    progress=True, check_hash=True)
                return path
            raise FileNotFoundError(
                f"ResNet18(pretrained='torchvision'): no weights at "
                f"'{path}'. Download {url} on a machine with internet and "
                f"put it at exactly that path (the directory is "
                f'torch.hub.get_dir()/checkpoints, set by $TORCH_HOME), or '
                f'pass allow_download=True when online.')
        path = os.path.expanduser(self.pretrained)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"ResNet18(pretrained='{self.pretrained}'): no checkpoint "
                f"at '{os.path.abspath(path)}'. Expected a torchvision-style "
                f'resnet18 state dict (.pth). For ImageNet weights download '
                f'{url} and pass its path, or put it at '
                f"'{torchvision_resnet18_path()}' and use "
                f"pretrained='torchvision'.")
        return path

    def load_pretrained(self) -> None:
        """Load ``self.pretrained`` into the trunk (strict on names/shapes).

        Raises:
            FileNotFoundError: the checkpoint file does not exist.
            RuntimeError: the file is not a plain tensor state dict, or its
                keys/shapes do not match the trunk.
        """
        path = self._checkpoint_path()
        try:
            checkpoint = torch.load(
                path, map_location='cpu', weights_only=True)
        except pickle.UnpicklingError as e:
            raise RuntimeError(
                f"ResNet18: '{path}' holds more than tensors and cannot be "
                'loaded with weights_only=True. Save only its state dict '
                "(e.g. torch.save(ckpt['state_dict'], new_path)) and use "
                f'that file. Original error: {e}') from e
        state = extract_backbone_state_dict(checkpoint)

        own = self.state_dict()
        missing = [
            k for k in own
            if k not in state and not k.endswith('num_batches_tracked')
        ]
        unexpected = [k for k in state if k not in own]
        mismatched = []
        for k, v in state.items():
            if k not in own:
                continue
            if not torch.is_tensor(v):
                mismatched.append(f'{k}: not a tensor ({type(v).__name__})')
            elif v.shape != own[k].shape:
                mismatched.append(f'{k}: checkpoint {tuple(v.shape)} vs '
                                  f'model {tuple(own[k].shape)}')
        if missing or unexpected or mismatched:
            lines = [f"ResNet18: checkpoint '{path}' does not match the "
                     'torchvision resnet18 trunk.']
            for title, keys in (('missing', missing),
                                ('unexpected', unexpected),
                                ('shape mismatch', mismatched)):
                if keys:
                    shown = ', '.join(keys[:5])
                    more = f' (+{len(keys) - 5} more)' if len(keys) > 5 else ''
                    lines.append(f'  {len(keys)} {title}: {shown}{more}')
            raise RuntimeError('\n'.join(lines))
        # only BN ``num_batches_tracked`` buffers may be absent (old
        # torchvision files); they keep their current value
        self.load_state_dict(state, strict=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(B, C, H, W)`` images to the ``(B, 512, h, w)`` layer4
        map."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)
