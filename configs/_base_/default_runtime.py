# Runtime shared by every config.
default_scope = 'debiascls'
# Fills shared dataset keys (severity, rho, mnist_root) into every split.
runner_type = 'DebiasRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=1000,
        max_keep_ckpts=3, save_last=True,
        # the metric named by val_cfg.selection_metric (MultiSplitValLoop)
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Python/numpy/torch generator states in checkpoints, restored on resume.
    random_state=dict(type='RandomStateHook'),
    # With several ranks: stop if their per-sample tables ever differ.
    per_sample_sync_check=dict(type='PerSampleSyncCheckHook', interval=1000),
    # Makes checkpoints loadable with torch.load(weights_only=True).
    checkpoint_format=dict(type='CheckpointFormatHook'),
    # Off in training; tools/test.py --show-dir DIR switches it on.
    visualization=dict(type='BiasVisualizationHook', enable=False),
)

env_cfg = dict(
    # torch threads: the process's cores minus its training loader's
    # workers ('auto'; debiascls.utils.threads); OMP_NUM_THREADS overrides.
    num_threads='auto',
    # evaluation loaders' workers exist only while they evaluate
    persistent_eval_workers=False,
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo on machines without CUDA.
    dist_cfg=dict(backend='nccl'),
)

# One optimizer per model, gradients averaged over ranks whatever the
# algorithm's forward looks like (see DebiasDataParallel). The scope prefix
# is needed: mmengine's Runner.wrap_model looks the type up in its root
# registry, which only finds children's modules by scoped name.
model_wrapper_cfg = dict(type='debiascls.DebiasDataParallel')

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_processor = dict(by_epoch=False, window_size=50)
log_level = 'INFO'

load_from = None
resume = False

randomness = dict(seed=0, deterministic=False)
