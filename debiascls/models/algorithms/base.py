"""Base class of every debiasing algorithm."""
import copy
import logging
from abc import abstractmethod
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dataset import default_collate
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from debiascls.models.utils import PerSampleState
from debiascls.registry import MODELS
from debiascls.utils import ConfigError


def current_iter() -> int:
    """The 0-based index of the running training iteration, from mmengine's
    message hub (``RuntimeInfoHook`` records it before every iteration; 0
    outside a Runner), as mmpretrain's EMA reads it."""
    return int(MessageHub.get_current_instance().get_info('iter', 0))


class BaseDebiasAlgorithm(BaseModel):
    """An algorithm owns one or more named classifiers (``self.models``),
    trains them in :meth:`update` with one optimizer wrapper each, and
    predicts with :attr:`main_model`.

    Subclasses implement :meth:`update` (one training iteration, including
    the optimizer steps, as mmagic's GANs do) and set:

    - ``uses_bias_labels``: ``True`` only for bias-supervised methods; the
      data preprocessor removes ``bias_label`` from training batches
      otherwise.
    - ``main_model``: the name of the model whose predictions are the
      algorithm's (``'debiased'`` for two-model methods).
    - ``required_hooks``: hooks (registered names) the algorithm needs;
      training refuses to start without them.
    - ``phase_names``: its training phases, if any; phase ``p`` is on from
      iteration ``phase_begins[p]`` (set from the algorithm's own settings,
      resolved against the run's length by :meth:`prepare_schedule`) to the
      end, read from the iteration itself (:func:`current_iter`), so a
      resumed run is in the phase of the uninterrupted one. Each phase is
      logged as ``train/phase_<p>`` (0/1) through :meth:`phase_log_vars`.

    Per-sample statistics live in :attr:`per_sample` (a
    :class:`~debiascls.models.utils.PerSampleState`, created by
    :meth:`add_per_sample_tables`), which the train loop sizes with the
    training labels in :meth:`prepare_train`.

    Evaluation runs every model, so the biased model's accuracies (the sanity
    check that it is biased) are logged next to the debiased model's.

    Args:
        models: ``{name: classifier config}``.
        data_preprocessor: Config of the
            :class:`~debiascls.models.BiasDataPreprocessor` (mean, std).
        init_cfg: mmengine initialisation config.
    """

    uses_bias_labels: ClassVar[bool] = False
    main_model: ClassVar[str] = 'debiased'
    required_hooks: ClassVar[Tuple[str, ...]] = ()
    phase_names: ClassVar[Tuple[str, ...]] = ()

    def __init__(self,
                 models: Dict[str, dict],
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        preprocessor = dict(type='BiasDataPreprocessor')
        preprocessor.update(data_preprocessor or {})
        if preprocessor.get('keep_bias_label_in_train',
                            False) and not self.uses_bias_labels:
            raise ValueError(
                f'{type(self).__name__} is not a bias-supervised method; '
                'remove keep_bias_label_in_train from data_preprocessor.')
        preprocessor['keep_bias_label_in_train'] = self.uses_bias_labels
        # Built from our registry, so no default scope is needed.
        super().__init__(
            data_preprocessor=MODELS.build(preprocessor), init_cfg=init_cfg)
        if self.main_model not in models:
            raise KeyError(f'{type(self).__name__} predicts with the model '
                           f'"{self.main_model}", which is not among '
                           f'{sorted(models)}.')
        #: The classifier configs, e.g. for BiasEnsemble's committee of
        #: fresh biased models.
        self.model_cfgs: Dict[str, dict] = copy.deepcopy(dict(models))
        self.models = nn.ModuleDict(
            {name: MODELS.build(cfg)
             for name, cfg in models.items()})
        self.per_sample: Optional[PerSampleState] = None
        #: Training-set indices the algorithm may use (None: all); set by
        #: DenoisingHook to PGD's D_clean.
        self.train_pool: Optional[Sequence[int]] = None
        self._train_dataset: Any = None
        self._train_store: Any = None
        self._attached_hooks: set = set()
        self._hooks_checked = False

    @classmethod
    def check_config(cls, cfg: Any) -> None:
        """Refuse a config whose other parts contradict this algorithm's
        settings (called by ``debiascls.apis.check_before_build`` with the
        whole config); nothing by default."""

    # ------------------------------------------------------------------ #
    # Set-up shared with hooks and the train loop
    # ------------------------------------------------------------------ #
    def extra_optim_modules(self) -> Dict[str, nn.Module]:
        """Parameter groups that get an optimizer wrapper of their own
        besides one per model (name -> module holding them; the module is
        a view over parameters of :attr:`models`, not a new submodule).
        None by default; CosFairNet's separate realignment optimizer is
        one."""
        return {}

    def add_per_sample_tables(self, tables: Dict[str, str]) -> None:
        """Declare per-sample tables (``{name: 'float'|'bool'|'long'}``);
        they are sized by :meth:`prepare_train` and checkpointed."""
        if self.per_sample is None:
            self.per_sample = PerSampleState({})
        for name, dtype in tables.items():
            self.per_sample.add_table(name, dtype)

    def prepare_train(self, dataset: Any, store: Any = None) -> None:
        """Called by :class:`~debiascls.engine.DebiasIterBasedTrainLoop`
        once before the first iteration (after a resume has loaded the
        checkpoint): sizes the per-sample tables with the training labels
        (never the bias labels) and keeps the dataset, from which methods
        such as IE load auxiliary samples by index, and its decoded copy
        (an :class:`~debiascls.datasets.in_memory.InMemoryStore` when the
        training split is in memory), from which they are indexed instead."""
        self._train_dataset = dataset
        self._train_store = store
        if self.per_sample is None:
            return
        if not hasattr(dataset, 'get_gt_labels'):
            raise TypeError(
                f'{type(self).__name__} keeps per-sample statistics and '
                'needs a debiascls dataset (with get_gt_labels) as the '
                f'training set, got {type(dataset).__name__}.')
        self.per_sample.setup(dataset.get_gt_labels())

    def prepare_schedule(self, max_iters: int, iters_per_epoch: int) -> None:
        """Called by the train loop before :meth:`prepare_train` and
        before any hook runs, with the run's length: resolve settings given
        as fractions of the run or in epochs (PGD's ``bias_iters``,
        LearnedMixin's ``pretrain_epochs``), and warn about phases that
        never begin. Subclasses that resolve settings call this last."""
        self.max_iters = int(max_iters)
        for name, begin in self.phase_begins.items():
            if begin >= max_iters:
                print_log(
                    f'{type(self).__name__}: phase "{name}" begins at '
                    f'iteration {begin}, after the last one ({max_iters}).',
                    logger='current', level=logging.WARNING)

    @property
    def phase_begins(self) -> Dict[str, int]:
        """First iteration of each phase of :attr:`phase_names`."""
        return getattr(self, '_phase_begins', {})

    @phase_begins.setter
    def phase_begins(self, begins: Dict[str, int]) -> None:
        if set(begins) != set(self.phase_names):
            raise ValueError(
                f'{type(self).__name__}: the phases must be exactly '
                f'{list(self.phase_names)}, got {sorted(begins)}.')
        for name, begin in begins.items():
            if int(begin) != begin or begin < 0:
                raise ValueError(
                    f'{type(self).__name__}: phase "{name}" begins at '
                    f'{begin!r}; give a non-negative iteration.')
        self._phase_begins = {k: int(v) for k, v in begins.items()}

    def phase_on(self, name: str, iteration: Optional[int] = None) -> bool:
        """Whether phase ``name`` is on at ``iteration`` (default: the
        running one)."""
        it = current_iter() if iteration is None else iteration
        return it >= self.phase_begins[name]

    def phase_log_vars(self) -> Dict[str, float]:
        """``{'phase_<p>': 0/1}`` of the running iteration, for
        ``update``'s log variables."""
        return {f'phase_{name}': float(self.phase_on(name))
                for name in self.phase_names}

    def attach_hook(self, name: str) -> None:
        """Record that a schedule hook drives this algorithm (hooks call it
        in ``before_train``)."""
        self._attached_hooks.add(name)

    def _check_required_hooks(self) -> None:
        if self._hooks_checked:
            return
        missing = [h for h in self.required_hooks
                   if h not in self._attached_hooks]
        if missing:
            raise ConfigError(
                f'{type(self).__name__} needs the hooks {missing} in '
                'custom_hooks (they drive its schedule); inherit them from '
                'its base config in configs/_base_/models/ or add them, '
                f"e.g. custom_hooks = [dict(type='{missing[0]}', ...)].")
        self._hooks_checked = True

    def load_train_samples(self, indices: Sequence[int]) -> Dict[str, Any]:
        """Load training samples by dataset index through the training
        pipeline and the data preprocessor (in the main process; the random
        augmentations draw from the generators the train loop re-seeds each
        iteration, so this is reproducible), or by indexing the in-memory
        copy of the training split when there is one. Returns ``{'inputs',
        'data_samples'}`` like a training batch."""
        if self._train_dataset is None:
            raise RuntimeError(f'{type(self).__name__}.load_train_samples '
                               'needs prepare_train() first.')
        if self._train_store is not None:
            batch = self._train_store.batch(
                torch.as_tensor(indices, dtype=torch.int64).reshape(-1))
        else:
            batch = default_collate(
                [self._train_dataset[int(i)] for i in indices])
        return self.data_preprocessor(batch, True)

    # ------------------------------------------------------------------ #
    # Training
    # ------------------------------------------------------------------ #
    @abstractmethod
    def update(self, inputs: torch.Tensor, data_samples: Dict[str,
                                                              torch.Tensor],
               optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One training iteration: compute losses and step the optimizers.

        Args:
            inputs: Preprocessed images (B, C, H, W).
            data_samples: ``gt_label`` and ``sample_idx`` tensors (B,);
                ``bias_label`` only for bias-supervised methods.
            optim_wrapper: One optimizer wrapper per model name.

        Returns:
            Scalars to log (detached tensors or floats).
        """

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        if not isinstance(optim_wrapper, OptimWrapperDict):
            raise TypeError(
                f'{type(self).__name__} trains with one optimizer per model; '
                "set optim_wrapper.constructor='MultiModelOptimWrapper"
                "Constructor' (configs/_base_/schedules/ do).")
        self._check_required_hooks()
        data = self.data_preprocessor(data, True)
        log_vars = self.update(data['inputs'], data['data_samples'],
                               optim_wrapper)
        return {
            k: v.detach() if isinstance(v, torch.Tensor) else v
            for k, v in log_vars.items()
        }

    # ------------------------------------------------------------------ #
    # Inference
    # ------------------------------------------------------------------ #
    def cam_views(self, inputs: torch.Tensor
                  ) -> Dict[str, Tuple[torch.Tensor, Any]]:
        """What Grad-CAM explains for each model: ``{name: (feature map z of
        inputs, head)}`` with ``head(z)`` the model's logits; models without
        an ``extract_feat``/``head`` split are left out. By default each
        classifier's own backbone map and head."""
        return {
            name: (model.extract_feat(inputs), model.head)
            for name, model in self.models.items()
            if hasattr(model, 'extract_feat') and hasattr(model, 'head')
        }

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: Dict[str, torch.Tensor]) -> List[dict]:
        """Predictions of every model, one dict per sample:
        ``sample_idx``, ``gt_label``, ``bias_label`` (labels passed through
        for the metrics), ``pred_label`` and ``pred_score`` (softmax) keyed
        by model name, and ``main_model`` (the name of the model whose
        predictions are the algorithm's)."""
        return self.pack_predictions(
            data_samples,
            {name: model(inputs)
             for name, model in self.models.items()})

    def pack_predictions(self, data_samples: Dict[str, torch.Tensor],
                         logits: Dict[str, torch.Tensor]) -> List[dict]:
        """Per-sample prediction dicts (see :meth:`predict`) from every
        model's logits."""
        labels = {
            k: data_samples[k].tolist()
            for k in ('sample_idx', 'gt_label', 'bias_label')
            if k in data_samples
        }
        scores = {
            name: value.softmax(dim=1).cpu()
            for name, value in logits.items()
        }
        preds = {name: s.argmax(dim=1).tolist() for name, s in scores.items()}
        results = []
        for i in range(len(next(iter(scores.values())))):
            sample = {k: v[i] for k, v in labels.items()}
            sample['main_model'] = self.main_model
            sample['pred_label'] = {name: p[i] for name, p in preds.items()}
            sample['pred_score'] = {name: s[i] for name, s in scores.items()}
            results.append(sample)
        return results

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[Dict[str, torch.Tensor]] = None,
                mode: str = 'tensor'):
        """``tensor``: logits of the main model; ``predict``: per-sample
        predictions of every model. Training goes through
        :meth:`train_step` (``loss`` mode is not used)."""
        if mode == 'tensor':
            return self.models[self.main_model](inputs)
        if mode == 'predict':
            return self.predict(inputs, data_samples or {})
        raise ValueError(f'{type(self).__name__}.forward: unknown mode '
                         f'"{mode}" (use "tensor" or "predict"; training '
                         'runs through train_step).')
