# Study (docs/studies.md): the `make demo` data and budget (the 256x256 synthetic benchmark of
# data/underwater_synth, 9 epochs on CPU), 3 seeds: the joint model against hard sharing and
# the single-task baselines; the enhance-then-detect cascade is an optional extra run,
# trained after every seed of the others.
#   python tools/analysis/run_study.py studies/demo_synthetic.py
title = 'Study: synthetic detection + enhancement (make demo data and budget)'
description = (
    'Data: the synthetic benchmark `make demo` generates (`python data_tools/synth_underwater.py '
    '--out data/underwater_synth --num-images 600 --size 256 256`); every config at its '
    'shipped schedule (9 epochs, AdamW, batch 8, CPU). Detection: COCO box AP on the val '
    'split; enhancement: PSNR / SSIM against the clean references of the val split.')
runs = [
    dict(name='squad', config='configs/squad/squad-retinanet_r18_demo_underwater.py'),
    dict(name='shared-fpn',
         config='configs/baselines/shared-fpn-retinanet_r18_demo_underwater.py'),
    dict(name='single-det',
         config='configs/baselines/single-det-retinanet_r18_demo_underwater.py'),
    dict(name='single-enh', config='configs/baselines/single-enh_r18_demo_underwater.py'),
    dict(name='cascade', config='configs/baselines/cascade-enh-det_r18_demo_underwater.py',
         optional=True),
]
seeds = [0, 1, 2]
single_task_runs = dict(det='single-det', enh='single-enh')
# the keys of the balancer configs' MultiTaskDeltaMetric (configs/balancers/amtl_*.py)
delta_keys = dict(det=['coco/bbox_mAP'], enh=['enh/psnr', 'enh/ssim'])
metrics = ['coco/bbox_mAP', 'coco/bbox_mAP_50', 'enh/psnr', 'enh/ssim']
reference_run = 'squad'
checkpoint = 'last'
work_dir = 'work_dirs/studies/demo_synthetic'
page = 'docs/studies/demo_synthetic.md'
