"""ReBias Figure 4: HSIC(f, g) and the unbiased accuracy over training.

``python tools/analysis_tools/plot_hsic.py WORK_DIR [--split test]
[--metric unbiased_acc] [--out PNG]``

Reads the ``hsic/<g>`` scalars ReBias logs (HSIC_1(f, g) at f's update,
``WORK_DIR/<timestamp>/vis_data/scalars.json``, as the logger wrote them:
the mean over its window of steps; resumed runs merged) and a metric of the
evaluations during training (``WORK_DIR/results.jsonl``, default the test
split's ``unbiased_acc``, ReBias's unbiased accuracy; on Biased MNIST the
test split is unbiased, rho = 0.1). Plots both against the iteration and
writes the PNG (default ``WORK_DIR/analysis/hsic.png``) with the numbers next
to it (``.json``; ``.csv`` with one row per logged or evaluated iteration).
"""
import argparse
import os.path as osp
import sys

from debiascls.apis import run_tool
from debiascls.visualization import write_csv, write_json, write_png
from debiascls.visualization.hsic_curves import hsic_series, plot_hsic
from debiascls.apis.run_files import evaluation_series, read_scalars


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work dir of a ReBias run')
    parser.add_argument('--split', default='test',
                        help='evaluated split of the accuracy curve')
    parser.add_argument('--metric', default='unbiased_acc',
                        help="the main model's metric to plot (another "
                        "model's as <model>/<metric>)")
    parser.add_argument('--out', help='PNG to write (default: '
                        'WORK_DIR/analysis/hsic.png)')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    hsic = hsic_series(read_scalars(args.work_dir))
    accuracy = evaluation_series(args.work_dir, args.split, args.metric)
    label = f'{args.split}/{args.metric}'
    out = args.out or osp.join(args.work_dir, 'analysis', 'hsic.png')
    stem = osp.splitext(out)[0]
    write_png(plot_hsic(hsic, accuracy, label,
                        osp.basename(osp.normpath(args.work_dir))), out)
    result = dict(work_dir=args.work_dir, accuracy_key=label,
                  hsic={g: [dict(iter=s, value=v) for s, v in points]
                        for g, points in hsic.items()},
                  accuracy=[dict(iter=i, value=v) for i, v in accuracy])
    write_json(result, stem + '.json')
    names = sorted(hsic)
    by_iter = {}
    for g in names:
        for step, value in hsic[g]:
            by_iter.setdefault(step, {})[f'hsic/{g}'] = value
    for step, value in accuracy:
        by_iter.setdefault(step, {})[label] = value
    columns = [f'hsic/{g}' for g in names] + [label]
    write_csv(['iter'] + columns,
              [[step] + [by_iter[step].get(c) for c in columns]
               for step in sorted(by_iter)], stem + '.csv')
    print(f'HSIC of {names} over {len(by_iter)} iterations and {label} at '
          f'{len(accuracy)} evaluations: {out}')
    return result


if __name__ == '__main__':
    sys.exit(run_tool(main))
