"""The per-(class, bias) accuracy matrix of runs at the evaluation a rule
selects, averaged over the runs (e.g. the seeds of a setting).

``python tools/analysis_tools/cell_matrix.py WORK_DIR [WORK_DIR ...]
[--rule best-valid-conflicting_acc] [--split test]``

Rows are classes, columns bias values (Colored MNIST: colours); a cell is
the mean over the runs that have samples in it ("-" where none has). The
diagonal of a colour-biased set holds its aligned cells. Below the matrix:
the mean of the aligned and of the conflicting cells, and how many runs and
which iterations were read.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from debiascls.engine.results import RESULTS_FILE, read_results
from debiascls.evaluation.selection import SelectionError, select
from debiascls.utils import ConfigError

Matrix = List[List[Optional[float]]]


def selected_matrix(work_dir: str, rule: str, split: str
                    ) -> Tuple[int, Matrix, List[List[int]]]:
    """``(iteration, cell accuracies, cell counts)`` of ``split`` at the
    evaluation ``rule`` selects in ``work_dir``."""
    path = osp.join(work_dir, RESULTS_FILE)
    if not osp.isfile(path):
        raise ConfigError(f'{work_dir}: no {RESULTS_FILE}; give the work dir '
                          'of a finished run.')
    records = list(read_results(path))
    try:
        chosen = select(records, rule)
    except SelectionError as err:
        raise ConfigError(f'{path}: {err}') from None
    for record in records:
        if (record.get('mode') == 'val' and record.get('split') == split
                and record.get('iter') == chosen['iter']):
            tables = record.get('tables') or {}
            if 'cell_acc' in tables:
                return chosen['iter'], tables['cell_acc'], tables.get(
                    'cell_count', [])
    raise ConfigError(f'{path}: no per-cell table of split "{split}" at '
                      f'iteration {chosen["iter"]} (the metric of the '
                      'config records none).')


def mean_matrix(matrices: Sequence[Matrix]) -> Matrix:
    """Cell-wise mean over the matrices that have a value there."""
    rows, cols = len(matrices[0]), len(matrices[0][0])
    out: Matrix = []
    for i in range(rows):
        row = []
        for j in range(cols):
            values = [m[i][j] for m in matrices if m[i][j] is not None]
            row.append(sum(values) / len(values) if values else None)
        out.append(row)
    return out


def markdown(matrix: Matrix) -> str:
    header = '| class \\ bias | ' + ' | '.join(
        str(j) for j in range(len(matrix[0]))) + ' |'
    lines = [header, '|' + '---|' * (len(matrix[0]) + 1)]
    for i, row in enumerate(matrix):
        lines.append(f'| {i} | ' + ' | '.join(
            '-' if v is None else f'{v:.1f}' for v in row) + ' |')
    return '\n'.join(lines)


def summary(matrix: Matrix) -> Dict[str, Optional[float]]:
    """Mean of the aligned (diagonal) and of the conflicting cells."""
    aligned = [r[i] for i, r in enumerate(matrix)
               if i < len(r) and r[i] is not None]
    conflicting = [v for i, r in enumerate(matrix) for j, v in enumerate(r)
                   if i != j and v is not None]
    mean = (lambda xs: sum(xs) / len(xs) if xs else None)  # noqa: E731
    return dict(aligned=mean(aligned), conflicting=mean(conflicting))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--rule', default='best-valid-conflicting_acc')
    parser.add_argument('--split', default='test')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    picked = [selected_matrix(d, args.rule, args.split)
              for d in args.work_dirs]
    shapes = {(len(m), len(m[0])) for _, m, _ in picked}
    if len(shapes) != 1:
        raise ConfigError(f'the runs have matrices of different shapes '
                          f'{sorted(shapes)}; give runs of one data set.')
    matrix = mean_matrix([m for _, m, _ in picked])
    print(markdown(matrix))
    means = summary(matrix)
    print(f'\nmean of the aligned cells {means["aligned"]:.2f}, of the '
          f'conflicting cells {means["conflicting"]:.2f}; {len(picked)} '
          f'run(s), {args.split} split at iterations '
          f'{[it for it, _, _ in picked]} ({args.rule})')
    return 0


if __name__ == '__main__':
    from debiascls.apis import run_tool
    sys.exit(run_tool(main))
