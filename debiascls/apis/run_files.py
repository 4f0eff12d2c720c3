"""Reading what a training run left in its work dir, for the analysis
tools: its config, the data set it trained on, its logged scalars and its
evaluations."""
import copy
import glob
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

from debiascls.utils import ConfigError


def run_config_path(work_dir: str, config: Optional[str] = None) -> str:
    """The config of a run: ``config`` if given, else the one
    ``tools/train.py`` dumped into the work dir (``<work_dir>/<name>.py``,
    with every ``--cfg-options`` of the run applied)."""
    if config is not None:
        if not osp.isfile(config):
            raise FileNotFoundError(f'Config "{config}" does not exist.')
        return config
    if not osp.isdir(work_dir):
        raise FileNotFoundError(
            f'Work dir "{work_dir}" does not exist; pass the --work-dir of a '
            'tools/train.py run.')
    found = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if len(found) != 1:
        raise ConfigError(
            f'{work_dir} holds {len(found)} config files '
            f'({[osp.basename(f) for f in found]}), expected the one '
            'tools/train.py dumps there; pass the config of the run with '
            '--config CONFIG.')
    return found[0]


def load_config(path: str, cfg_options: Optional[Dict[str, Any]] = None):
    """A config as ``tools/train.py`` prepares it (shared dataset keys
    filled in), with ``cfg_options`` merged first."""
    from mmengine.config import Config

    from debiascls.engine.runner.config_preparation import prepare_config
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return prepare_config(cfg)


#: The config key of each split's data loader.
SPLIT_LOADERS = dict(train='train_dataloader', valid='val_dataloader',
                     test='test_dataloader')


def build_split_dataset(cfg, split: str = 'train',
                        pipeline: Optional[Sequence[dict]] = None):
    """The dataset of a split (``train``, ``valid``, ``test``, or an
    ``extra_splits`` name of ``test_cfg``) built from the config, with
    another pipeline if given."""
    from debiascls.registry import DATASETS
    if split in SPLIT_LOADERS:
        loader = cfg.get(SPLIT_LOADERS[split])
    else:
        loader = (cfg.get('test_cfg', {}) or {}).get('extra_splits',
                                                     {}).get(split)
    if not loader or 'dataset' not in loader:
        extra = sorted((cfg.get('test_cfg', {}) or {}).get('extra_splits',
                                                           {}) or {})
        raise ConfigError(
            f'The config has no data loader for the split "{split}"; use '
            f'one of {list(SPLIT_LOADERS) + extra}.')
    dataset_cfg = copy.deepcopy(loader['dataset'])
    if pipeline is not None:
        dataset_cfg['pipeline'] = copy.deepcopy(list(pipeline))
    return DATASETS.build(dataset_cfg)


def read_scalars(work_dir: str) -> Dict[int, Dict[str, float]]:
    """The training scalars a run logged (``<work_dir>/<timestamp>/vis_data/
    scalars.json``, one JSON line per logged step), merged over the runs of
    the work dir in time order: a resumed run's steps replace those the
    interrupted run logged after its checkpoint. Keyed by ``step``."""
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'No <timestamp>/vis_data/scalars.json under "{work_dir}"; pass '
            'the work dir of a tools/train.py run (its LocalVisBackend '
            'writes them).')
    merged: Dict[int, Dict[str, float]] = {}
    for path in files:
        with open(path, encoding='utf-8') as f:
            lines = f.readlines()
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if number == len(lines):
                    break  # cut off by a killed process
                raise ValueError(f'{path}:{number} is not valid JSON.')
            step = record.get('step', record.get('iter'))
            if step is None:
                continue
            merged.setdefault(int(step), {}).update(record)
    return merged


def evaluation_series(work_dir: str, split: str, metric: str,
                      mode: str = 'val') -> List[Tuple[int, float]]:
    """``(iteration, value)`` of a metric of one split over the
    evaluations during training (``results.jsonl``); a later line for the
    same iteration (a resumed run) wins."""
    from debiascls.engine.results import RESULTS_FILE, read_results
    path = osp.join(work_dir, RESULTS_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'"{path}" does not exist; pass the work dir of a tools/train.py '
            'run (its evaluations are appended there).')
    values: Dict[int, float] = {}
    seen_splits, seen_metrics = set(), set()
    for record in read_results(path):
        if record.get('mode') != mode or record.get('iter') is None:
            continue
        seen_splits.add(record.get('split'))
        if record.get('split') != split:
            continue
        seen_metrics.update(record.get('metrics', {}))
        if metric in record.get('metrics', {}):
            values[int(record['iter'])] = float(record['metrics'][metric])
    if not values:
        raise ConfigError(
            f'{path} has no "{metric}" of the split "{split}" in its '
            f'evaluations during training (splits: {sorted(seen_splits)}; '
            f'metrics of the split: {sorted(seen_metrics)[:12]}); choose '
            'them with --split and --metric.')
    return sorted(values.items())
