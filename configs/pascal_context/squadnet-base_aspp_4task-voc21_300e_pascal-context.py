# The 4-task model with the semseg labels of ASTMT / MTI-Net: the 21 VOC classes of the
# PASCAL_MT semseg PNGs (0 = background, 255 = ignore), converted with
#   python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context_voc21 \
#       --seg-source voc21
# Use this one to compare semseg with numbers measured by ASTMT's / MTI-Net's code.
_base_ = './squadnet-base_aspp_4task_300e_pascal-context.py'
data_root = 'data/pascal_context_voc21/'
model = dict(heads=dict(seg=dict(decode_head=dict(num_classes=21))))
train_dataloader = dict(dataset=dict(data_root=data_root, seg_source='voc21'))
val_dataloader = dict(dataset=dict(data_root=data_root, seg_source='voc21'))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='SegMetric', num_classes=21),
    dict(type='SegMetric', task='parts', num_classes=7),
    dict(type='SaliencyMetric'),
    dict(type='NormalMetric'),
]
test_evaluator = val_evaluator
