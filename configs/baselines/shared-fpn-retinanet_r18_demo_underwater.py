# Hard parameter sharing baseline of the squad demo: one FPN shared by detection and
# enhancement (the enhancement head uses the first three of the five levels).
_base_ = '../squad/squad-retinanet_r18_demo_underwater.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='SharedFPNNeck',
        in_channels=[128, 256, 512],
        tasks=['det', 'enh'],
        out_channels=64,
        num_outs=5,
        add_extra_convs='on_output'))
