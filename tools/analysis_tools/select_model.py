"""Apply model-selection rules to a run's results.jsonl.

``python tools/analysis_tools/select_model.py WORK_DIR [--rule RULE ...]``

Rules (see debiascls/evaluation/selection.py and docs/model_selection.md):
``last``, ``best-<split>-<metric>`` (e.g. ``best-valid-conflicting_acc``)
and ``oracle-test-<metric>`` (the papers' test-set selection, labelled).
"""
import argparse
import json
import os.path as osp
import sys

from debiascls.engine.results import RESULTS_FILE, read_results
from debiascls.engine.results import SUMMARY_METRICS
from debiascls.evaluation.selection import (SelectionError, select,
                                            selection_table)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work dir holding results.jsonl')
    parser.add_argument(
        '--rule',
        nargs='+',
        default=['last', 'best-valid-conflicting_acc', 'oracle-test-acc'],
        help='selection rules to apply')
    parser.add_argument(
        '--metrics',
        nargs='+',
        default=list(SUMMARY_METRICS),
        help='metrics to show (main model; other models as <model>/<metric>)')
    parser.add_argument('--json', action='store_true',
                        help='print the selections as JSON')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    path = osp.join(args.work_dir, RESULTS_FILE)
    if not osp.isfile(path):
        print(f'error: "{path}" does not exist; pass the work dir of a '
              'training run (tools/train.py writes it).', file=sys.stderr)
        return 1
    records = list(read_results(path))
    try:
        results = [select(records, rule) for rule in args.rule]
    except SelectionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(results, indent=1, sort_keys=True))
    else:
        print(selection_table(results, args.metrics))
    return 0


if __name__ == '__main__':
    sys.exit(main())
