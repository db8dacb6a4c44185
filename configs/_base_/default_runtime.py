default_scope = 'mtlunder'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MultiTaskVisualizationHook'),
    # NaN/inf loss, gradient norm or weight: the step is never applied and training stops
    # before a checkpoint is written; action='skip' goes on, up to max_consecutive_skips
    # skipped steps in a row (docs/balancers.md, "Non-finite values")
    finite_guard=dict(type='FiniteGuardHook', action='stop', max_consecutive_skips=10))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='MultiTaskLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

# Every run is seeded (sampler order, model initialisation, each draw's augmentation:
# docs/reproducibility.md); --cfg-options randomness.seed=N selects another seed.
# deterministic=True also fixes cuDNN's algorithms (GPU bit-identity; slower).
randomness = dict(seed=0, deterministic=False)

log_level = 'INFO'
load_from = None
resume = False
