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
from typing import Any, Dict, Iterator, List, Optional, Tuple

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


def run_record(runner, mode: str, split: str,
               checkpoint: Optional[str]) -> Dict[str, Any]:
    """Identification fields shared by every line of one evaluation."""
    filename = getattr(runner.cfg, 'filename', None)
    return dict(
        config=osp.splitext(osp.basename(filename))[0] if filename else None,
        experiment=runner.experiment_name,
        work_dir=runner.work_dir,
        seed=runner.seed,
        mode=mode,
        split=split,
        checkpoint=checkpoint,
        env=environment(),
    )
