# The SquadNet reference schedule (official code, configs/{nyud,pascal}/squadnet/
# squadnet_base.yml and its poly scheduler): Adam lr 1e-4, weight decay 1e-4, 300 epochs,
# batch 6, from scratch; poly decay lr = 1e-4 (1 - epoch / 300) ^ 0.99, updated once per
# epoch (by_epoch=True: mmengine steps this scheduler at the end of every epoch).
# The reference trains with fp16 autocast (`fp16: True`): add `--amp` to tools/train.py /
# tools/dist_train.sh on CUDA (mmengine's AmpOptimWrapper, float16, dynamic loss scale);
# on a CPU `--amp` is bfloat16 autocast instead (docs/architectures.md).
max_epochs = 300
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=0.99, eta_min=0, begin=0, end=max_epochs,
                        by_epoch=True)]
auto_scale_lr = dict(enable=False, base_batch_size=6)
