# The SquadNet paper's dense schedule: Adam lr 1e-4, weight decay 1e-4, poly decay (power
# 0.9), 300 epochs, batch 6, trained from scratch.
max_epochs = 300
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs,
                        by_epoch=True)]
auto_scale_lr = dict(enable=False, base_batch_size=6)
