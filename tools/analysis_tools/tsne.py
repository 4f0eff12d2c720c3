"""CosFairNet Figure 3: t-SNE of the penultimate features of every model.

``python tools/analysis_tools/tsne.py CONFIG CHECKPOINT [--split test]
[--max-samples N] [--seed S] [--perplexity P] [--out PNG]
[--cfg-options k=v ...]``

Loads the checkpoint into the algorithm of CONFIG, computes for up to
``--max-samples`` samples of a split (a seeded subset, the same on every
call) the penultimate features of each model (the input of its last linear
layer: the pooled feature map for a GAP + linear head), embeds each model's
features in 2-D with scikit-learn's t-SNE (``random_state=--seed``) and
draws one row per model, coloured by class and by bias attribute. Writes the
PNG (default ``<checkpoint dir>/analysis/tsne_<split>.png``) and the
embeddings next to it (``.csv``: model, sample index, class, bias, x, y;
``.json``: the settings and samples per model).
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import DictAction
from mmengine.dataset import default_collate
from torch.utils.data import DataLoader, Subset

from debiascls.apis import run_tool
from debiascls.engine.checkpoint import safe_torch_load
from debiascls.registry import MODELS
from debiascls.visualization import write_csv, write_json, write_png
from debiascls.apis.run_files import (build_split_dataset,
                                               load_config)
from debiascls.visualization.tsne import (penultimate_features, plot_tsne,
                                          subset_indices, tsne_embedding)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config of the run')
    parser.add_argument('checkpoint', help='a checkpoint of the run')
    parser.add_argument('--split', default='test',
                        help='train, valid, test or an extra split of '
                        'test_cfg')
    parser.add_argument('--max-samples', type=int, default=2000,
                        help='embed at most this many samples')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the subset and of t-SNE')
    parser.add_argument('--perplexity', type=float, default=30.0)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--device', default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument('--out', help='PNG to write')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (e.g. data_root)')
    return parser.parse_args(argv)


def build_algorithm(cfg, checkpoint: str):
    """The config's algorithm with the checkpoint's weights (and per-sample
    tables)."""
    model_cfg = dict(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    algorithm = MODELS.build(model_cfg)
    state = safe_torch_load(checkpoint, map_location='cpu')
    algorithm.load_state_dict(state.get('state_dict', state))
    return algorithm


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.max_samples < 4:
        raise SystemExit('error: --max-samples must be at least 4.')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'Checkpoint "{args.checkpoint}" does not exist; pass a .pth '
            'written by tools/train.py.')
    cfg = load_config(args.config, args.cfg_options)
    dataset = build_split_dataset(cfg, args.split)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    algorithm = build_algorithm(cfg, args.checkpoint).to(device)
    indices = subset_indices(len(dataset), args.max_samples, args.seed)
    loader = DataLoader(Subset(dataset, indices.tolist()),
                        batch_size=args.batch_size, shuffle=False,
                        num_workers=0, collate_fn=default_collate)
    feats, labels = penultimate_features(algorithm, loader)
    embeddings = {
        name: tsne_embedding(f, args.seed, args.perplexity)
        for name, f in feats.items()
    }
    meta = getattr(dataset, 'metainfo', {}) or {}
    out = args.out or osp.join(
        osp.dirname(osp.abspath(args.checkpoint)), 'analysis',
        f'tsne_{args.split}.png')
    stem = osp.splitext(out)[0]
    title = f'{osp.basename(args.checkpoint)}, {args.split}'
    write_png(plot_tsne(embeddings, labels['gt_label'], labels['bias_label'],
                        meta.get('classes'), meta.get('bias_classes'),
                        title), out)
    rows = [[name, int(labels['sample_idx'][i]), int(labels['gt_label'][i]),
             int(labels['bias_label'][i]), float(p[0]), float(p[1])]
            for name, points in embeddings.items()
            for i, p in enumerate(points)]
    write_csv(['model', 'sample_idx', 'gt_label', 'bias_label', 'x', 'y'],
              rows, stem + '.csv')
    result = dict(config=args.config, checkpoint=args.checkpoint,
                  split=args.split, seed=args.seed,
                  perplexity=args.perplexity, num_samples=len(indices),
                  models={name: dict(feature_dim=int(f.shape[1]))
                          for name, f in feats.items()})
    write_json(result, stem + '.json')
    print(f't-SNE of {len(indices)} {args.split} samples, models '
          f'{list(embeddings)}: {out}')
    return result


if __name__ == '__main__':
    sys.exit(run_tool(main))
