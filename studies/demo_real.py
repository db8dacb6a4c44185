# Study (docs/studies.md): the `make demo-real` data and budget (the real mixed benchmark of
# ../shared/data: RUIE-UTTS detection + LSUI / EUVP pairs, 256x256, 18 epochs on CPU),
# 3 seeds: the joint model against hard sharing and the single-task baselines (each trained
# on the images labelled for its task).
#   python tools/analysis/run_study.py studies/demo_real.py
title = 'Study: real detection + enhancement mixture (make demo-real data and budget)'
description = (
    'Data: the benchmark `make demo-real` builds in data/underwater_real_demo '
    '(`python data_tools/build_underwater_benchmark.py data/underwater_real_demo --det '
    'ruie_utts:voc:../shared/data/ruie_utts --map urchin=echinus --enh '
    'lsui:generic:../shared/data/lsui_pairs --enh euvp:generic:../shared/data/euvp_pairs '
    '--split 0.8 0.2`); every config at its shipped schedule (18 epochs, AdamW, batch 8 '
    'with task-balanced batches, CPU). Detection: COCO box AP on the UTTS val images; '
    'enhancement: PSNR / SSIM on the LSUI / EUVP val pairs, UIQM / UCIQE (no reference) of '
    'the enhanced UTTS val images.')
runs = [
    dict(name='squad', config='configs/squad/squad-retinanet_r18_demo_underwater-real.py'),
    dict(name='shared-fpn',
         config='configs/baselines/shared-fpn-retinanet_r18_demo_underwater-real.py'),
    dict(name='single-det',
         config='configs/baselines/single-det-retinanet_r18_demo_underwater-real.py'),
    dict(name='single-enh', config='configs/baselines/single-enh_r18_demo_underwater-real.py'),
]
seeds = [0, 1, 2]
single_task_runs = dict(det='single-det', enh='single-enh')
delta_keys = dict(det=['coco/bbox_mAP'], enh=['enh/psnr', 'enh/ssim'])
metrics = ['coco/bbox_mAP', 'coco/bbox_mAP_50', 'enh/psnr', 'enh/ssim', 'enh/uiqm',
           'enh/uciqe']
reference_run = 'squad'
checkpoint = 'last'
work_dir = 'work_dirs/studies/demo_real'
page = 'docs/studies/demo_real.md'
