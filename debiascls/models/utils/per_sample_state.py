"""The one owner of per-sample statistics (EMA losses, scores, set
membership, sampling weights), keyed by ``sample_idx``."""
from typing import Dict, Iterable, List, Sequence, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_world_size
from torch import nn

from debiascls.utils.dist import collective_device

#: dtypes a table may have.
_DTYPES = {'float': torch.float32, 'bool': torch.bool, 'long': torch.int64}


def _dist_ready() -> bool:
    return (torch_dist.is_available() and torch_dist.is_initialized()
            and get_world_size() > 1)


def all_gather_rows(*tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """Concatenate, in rank order, each rank's ``tensors`` (same first
    dimension on a rank, possibly different across ranks).

    One collective for the sizes and one per tensor, on the backend's device
    (:func:`~debiascls.utils.dist.collective_device`; the results come back
    on each tensor's own device); without a process group the tensors are
    returned unchanged.
    """
    if not _dist_ready():
        return tensors
    world = get_world_size()
    device = collective_device()
    length = torch.tensor([tensors[0].shape[0]], device=device)
    lengths = [torch.zeros_like(length) for _ in range(world)]
    torch_dist.all_gather(lengths, length)
    lengths = [int(n.item()) for n in lengths]
    longest = max(lengths)
    gathered = []
    for tensor in tensors:
        padded = tensor.new_zeros((longest, ) + tuple(tensor.shape[1:]),
                                  device=device)
        padded[:tensor.shape[0]] = tensor
        parts = [torch.empty_like(padded) for _ in range(world)]
        torch_dist.all_gather(parts, padded)
        gathered.append(
            torch.cat([p[:n] for p, n in zip(parts, lengths)],
                      dim=0).to(tensor.device))
    return tuple(gathered)


def first_occurrence(idx: torch.Tensor) -> torch.Tensor:
    """Boolean mask keeping the first occurrence of every value of ``idx``.

    A distributed sampler pads the last epoch's indices, so the same sample
    can be in two ranks' batches; keeping one observation (the lowest rank's)
    makes the update deterministic and identical on every rank.
    """
    if idx.numel() == 0:
        return torch.ones_like(idx, dtype=torch.bool)
    order = torch.argsort(idx, stable=True)
    sorted_idx = idx[order]
    first_sorted = torch.ones_like(sorted_idx, dtype=torch.bool)
    first_sorted[1:] = sorted_idx[1:] != sorted_idx[:-1]
    keep = torch.zeros_like(first_sorted)
    keep[order] = first_sorted
    return keep


class PerSampleState(nn.Module):
    """Tables of one value per training sample, indexed by ``sample_idx``.

    Every per-sample statistic of a method (LfF's EMA losses, IE's BN score
    and reference loss, BiasEnsemble's set membership, sampling weights)
    is a named table here, so that

    - it is a persistent buffer of the algorithm, hence saved in every
      checkpoint and restored exactly by ``--resume`` (tables are created
      empty and take the checkpoint's size when one is loaded);
    - it is updated only through :meth:`gather` + :meth:`ema_update` /
      :meth:`assign`, which apply every rank's observations in the same
      order on every rank: all ranks hold identical tables.

    The training labels (``gt_label``, never the bias labels) are a table
    too; class-wise statistics (:meth:`class_max`) and same-class sampling
    use them.

    Args:
        tables: ``{name: dtype}`` with dtype ``'float'``, ``'bool'`` or
            ``'long'``. Every ``'float'`` table gets a companion
            ``<name>_seen`` (bool) used by :meth:`ema_update`.
    """

    def __init__(self, tables: Dict[str, str]) -> None:
        super().__init__()
        self.register_buffer('gt_label', torch.zeros(0, dtype=torch.int64))
        self._names: List[str] = []
        for name, dtype in tables.items():
            self.add_table(name, dtype)

    def add_table(self, name: str, dtype: str = 'float') -> None:
        """Declare a table (before :meth:`setup` or a checkpoint load)."""
        if dtype not in _DTYPES:
            raise ValueError(f'PerSampleState: table "{name}" has dtype '
                             f'"{dtype}"; use one of {sorted(_DTYPES)}.')
        if name in self._names or name == 'gt_label':
            raise ValueError(f'PerSampleState: table "{name}" exists.')
        self._names.append(name)
        self.register_buffer(name, torch.zeros(0, dtype=_DTYPES[dtype]))
        if dtype == 'float':
            self.register_buffer(f'{name}_seen',
                                 torch.zeros(0, dtype=torch.bool))

    @property
    def table_names(self) -> List[str]:
        return list(self._names)

    @property
    def num_samples(self) -> int:
        return int(self.gt_label.numel())

    @property
    def num_classes(self) -> int:
        return int(self.gt_label.max().item()) + 1 if self.num_samples else 0

    # ------------------------------------------------------------------ #
    # Set-up and checkpoints
    # ------------------------------------------------------------------ #
    def setup(self, gt_labels: Sequence[int]) -> None:
        """Size every table for the training set (all zeros / False).

        After a resume the tables already hold the checkpoint's values: they
        are kept, after checking that the training set is the one they were
        computed on.
        """
        labels = torch.as_tensor(
            gt_labels, dtype=torch.int64, device=self.gt_label.device)
        if self.num_samples:
            if not torch.equal(labels, self.gt_label):
                raise RuntimeError(
                    'PerSampleState: the per-sample tables in the loaded '
                    f'checkpoint are for a training set of {self.num_samples}'
                    f' samples with other labels than the current one '
                    f'({labels.numel()} samples). Resume with the data '
                    'set (data_root, severity, seed) the run started with.')
            return
        self.gt_label = labels
        for name in self._names:
            for buf_name in (name, f'{name}_seen'):
                buf = self._buffers.get(buf_name)
                if buf is not None:
                    self._buffers[buf_name] = buf.new_zeros(labels.numel())

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Tables are created empty; take the checkpoint's size.
        for name, buf in list(self._buffers.items()):
            saved = state_dict.get(prefix + name)
            if buf is not None and saved is not None and (saved.shape !=
                                                          buf.shape):
                self._buffers[name] = buf.new_empty(saved.shape)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check_ready(self, name: str) -> torch.Tensor:
        if not self.num_samples:
            raise RuntimeError(
                'PerSampleState is not set up: the train loop calls '
                'setup() with the training labels before the first '
                "iteration (use train_cfg.type='DebiasIterBasedTrainLoop').")
        if name not in self._buffers:
            raise KeyError(f'PerSampleState has no table "{name}"; tables: '
                           f'{self._names}.')
        return self._buffers[name]

    # ------------------------------------------------------------------ #
    # Reading
    # ------------------------------------------------------------------ #
    def get(self, name: str, idx: torch.Tensor = None) -> torch.Tensor:
        """Values of table ``name`` at ``idx`` (all samples when ``None``)."""
        table = self._check_ready(name)
        return table if idx is None else table[idx]

    def class_max(self, name: str) -> torch.Tensor:
        """``(num_classes,)`` maximum of a float table over all training
        samples of each class (0 for a class with no sample)."""
        table = self._check_ready(name)
        out = table.new_zeros(self.num_classes)
        return out.scatter_reduce(
            0, self.gt_label, table, reduce='amax', include_self=True)

    # ------------------------------------------------------------------ #
    # Writing (every rank applies the same gathered update)
    # ------------------------------------------------------------------ #
    @staticmethod
    def gather(idx: torch.Tensor,
               *values: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """All ranks' ``(idx, *values)`` in rank order, duplicates of a
        sample (distributed padding) dropped but the first. Call it once per
        step and pass the result to the update methods, which must then be
        called on every rank."""
        gathered = all_gather_rows(idx, *[v.detach() for v in values])
        keep = first_occurrence(gathered[0])
        return tuple(t[keep] for t in gathered)

    def ema_update(self, name: str, idx: torch.Tensor, values: torch.Tensor,
                   alpha: float) -> torch.Tensor:
        """``t[i] <- alpha * t[i] + (1 - alpha * seen[i]) * v`` for gathered
        ``(idx, values)``; returns the new ``t[idx]``.

        This is LfF's per-sample EMA (LfF ``util.py``, also DisEnt/BE):
        ``alpha`` weights the *old* value, and the first visit of a sample
        stores the raw value (``seen`` is 0). IE's Eq. (1) with weight
        ``alpha_l`` on the new loss is ``alpha = 1 - alpha_l``.
        """
        table = self._check_ready(name)
        seen = self._buffers[f'{name}_seen']
        values = values.to(table.dtype)
        new = alpha * table[idx] + (1 - alpha * seen[idx].to(
            table.dtype)) * values
        table[idx] = new
        seen[idx] = True
        return new

    def assign(self, name: str, idx: torch.Tensor,
               values: torch.Tensor) -> None:
        """``t[idx] <- values`` for gathered ``(idx, values)`` (or for a
        whole-table update computed identically on every rank)."""
        table = self._check_ready(name)
        table[idx] = values.to(table.dtype)
        seen = self._buffers.get(f'{name}_seen')
        if seen is not None:
            seen[idx] = True

    def fill(self, name: str, values: torch.Tensor) -> None:
        """Replace a whole table (e.g. set membership computed before
        training); ``values`` must be identical on every rank."""
        table = self._check_ready(name)
        if values.shape != table.shape:
            raise ValueError(f'PerSampleState.fill("{name}"): expected '
                             f'shape {tuple(table.shape)}, got '
                             f'{tuple(values.shape)}.')
        table.copy_(values.to(table.dtype))
        seen = self._buffers.get(f'{name}_seen')
        if seen is not None:
            seen.fill_(True)

    def seen(self, name: str, idx: torch.Tensor = None) -> torch.Tensor:
        """Whether each sample of a float table has been written."""
        self._check_ready(name)
        seen = self._buffers[f'{name}_seen']
        return seen if idx is None else seen[idx]

    def extra_repr(self) -> str:
        return f'num_samples={self.num_samples}, tables={self._names}'


def tables_equal(a: 'PerSampleState', b: 'PerSampleState',
                 names: Iterable[str] = None) -> bool:
    """Whether two states hold bit-identical tables (tests, resume checks)."""
    names = a.table_names if names is None else names
    keys = ['gt_label'] + [
        k for n in names for k in (n, f'{n}_seen') if k in a._buffers
    ]
    return all(torch.equal(a._buffers[k], b._buffers[k]) for k in keys)
