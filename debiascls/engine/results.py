"""Results as data: one JSON line per evaluated split.

Every evaluation (during training and in ``tools/test.py``) appends one line
per split and model to ``<work_dir>/results.jsonl`` with every metric, so a
model-selection rule can be chosen after training (DomainBed's practice).
Lines are written whole by rank 0 and flushed to disk; a reader skips a
malformed last line left by a killed process.
"""
import json
import os
import os.path as osp
import platform
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import mmengine
import torch

RESULTS_FILE = 'results.jsonl'


def split_scalars(metrics: Dict[str, Any]
                  ) -> Tuple[Dict[str, float], Dict[str, Any]]:
    """Separate scalar metrics from tables (e.g. the (class, bias) matrix)."""
    scalars, tables = {}, {}
    for key, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            scalars[key] = float(value)
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            scalars[key] = float(value.item())
        else:
            tables[key] = value
    return scalars, tables


def environment() -> Dict[str, str]:
    """Versions that results depend on (ReBias issue #12)."""
    env = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        mmengine=mmengine.__version__,
        cuda=str(torch.version.cuda),
    )
    if torch.backends.cudnn.is_available():
        env['cudnn'] = str(torch.backends.cudnn.version())
    return env


def append_result(work_dir: str, record: Dict[str, Any]) -> str:
    """Append ``record`` as one line to ``<work_dir>/results.jsonl``."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, RESULTS_FILE)
    record = dict(record)
    record.setdefault('time', time.strftime('%Y-%m-%dT%H:%M:%S'))
    line = json.dumps(record, sort_keys=True, allow_nan=False)
    with open(path, 'a', encoding='utf-8') as f:
        f.write(line + '\n')
        f.flush()
        os.fsync(f.fileno())
    return path


def read_results(path: str) -> Iterator[Dict[str, Any]]:
    """Yield the records of a ``results.jsonl`` file, skipping a truncated
    last line."""
    with open(path, encoding='utf-8') as f:
        lines: List[str] = f.readlines()
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                return  # written by a process that was killed mid-line
            raise ValueError(f'{path}:{number} is not valid JSON: '
                             f'{line[:80]!r}') from None


def complete_validations(records: Sequence[dict]) -> List[int]:
    """Iterations whose validation wrote every split: those its records
    name in ``eval_splits`` or, in files written before that field, the
    union of the splits of all validations of the run."""
    written: Dict[int, set] = {}
    expected: Dict[int, set] = {}
    for record in records:
        if record.get('mode') != 'val' or record.get('iter') is None:
            continue
        it = int(record['iter'])
        written.setdefault(it, set()).add(record.get('split'))
        expected.setdefault(it, set()).update(record.get('eval_splits') or ())
    union = set().union(*written.values()) if written else set()
    return sorted(it for it, s in written.items()
                  if s >= (expected[it] or union))



def _max_iters(runner) -> Optional[int]:
    """The training budget in iterations, when the train loop is built (a
    validation during training); None in ``tools/test.py``, whose runner
    never builds it (building it would load the training data)."""
    from mmengine.runner import BaseLoop
    loop = getattr(runner, '_train_loop', None)
    if isinstance(loop, BaseLoop) and hasattr(loop, 'max_iters'):
        return int(loop.max_iters)
    return None


def _eval_splits(runner, mode: str) -> Optional[List[str]]:
    """The names of every split the evaluation writes, in order (so that a
    reader can tell an evaluation cut off after its first split)."""
    loop = getattr(runner, '_val_loop' if mode == 'val' else '_test_loop',
                   None)
    splits = getattr(loop, 'splits', None)
    return [s.name for s in splits] if splits else None


def run_record(runner, mode: str, split: str,
               checkpoint: Optional[str]) -> Dict[str, Any]:
    """Identification fields shared by every line of one evaluation.

    ``max_iters`` (the run's budget, None outside training) and
    ``eval_splits`` (every split of this evaluation) were added after the
    first results files were written; readers use ``record.get``.
    """
    filename = getattr(runner.cfg, 'filename', None)
    return dict(
        config=osp.splitext(osp.basename(filename))[0] if filename else None,
        experiment=runner.experiment_name,
        work_dir=runner.work_dir,
        seed=runner.seed,
        max_iters=_max_iters(runner),
        eval_splits=_eval_splits(runner, mode),
        mode=mode,
        split=split,
        checkpoint=checkpoint,
        env=environment(),
    )


SUMMARY_METRICS = ('acc', 'aligned_acc', 'conflicting_acc', 'unbiased_acc',
                   'worst_group_acc')


def last_evaluation_summary(work_dir: str,
                            metrics: Tuple[str, ...] = SUMMARY_METRICS
                            ) -> Optional[str]:
    """A table of the last evaluation in ``<work_dir>/results.jsonl``: one
    row per split, the main model's ``metrics`` as columns."""
    path = osp.join(work_dir, RESULTS_FILE)
    if not osp.isfile(path):
        return None
    records = list(read_results(path))
    if not records:
        return None
    last = records[-1]
    rows = [
        r for r in records if r.get('mode') == last.get('mode')
        and r.get('iter') == last.get('iter')
        and r.get('checkpoint') == last.get('checkpoint')
    ]
    header = ['split'] + list(metrics)
    lines = [' | '.join(f'{h:>15}' for h in header)]
    for record in rows:
        values = [record['split']] + [
            f"{record['metrics'][m]:.2f}" if m in record['metrics'] else '-'
            for m in metrics
        ]
        lines.append(' | '.join(f'{v:>15}' for v in values))
    where = (f"iteration {last['iter']}" if last.get('iter') is not None else
             f"checkpoint {last.get('checkpoint')}")
    return f'Accuracy (%) at {where}:\n' + '\n'.join(lines)
