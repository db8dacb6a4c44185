# The cascade trained separately: the detection gradient stops at the enhanced image, so
# the enhancer learns only from the enhancement loss. To start from a trained single-task
# enhancer, e.g. `tools/train.py configs/baselines/single-enh_r18_demo_underwater.py`:
#   --cfg-options model.enhancer.init_cfg.type=Pretrained \
#       model.enhancer.init_cfg.checkpoint=work_dirs/single-enh_r18_demo_underwater/epoch_8.pth
# and freeze it (optional):
#   optim_wrapper.paramwise_cfg.custom_keys.enhancer.lr_mult=0 \
#   optim_wrapper.paramwise_cfg.custom_keys.enhancer.decay_mult=0
_base_ = './cascade-enh-det_r18_demo_underwater.py'
model = dict(detach_enhanced=True)
