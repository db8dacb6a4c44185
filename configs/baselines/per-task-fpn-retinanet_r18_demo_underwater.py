# No neck sharing baseline of the squad demo: one FPN per task on the shared ResNet-18
# (detection: 5 levels, enhancement: the 3 backbone levels).
_base_ = '../squad/squad-retinanet_r18_demo_underwater.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='PerTaskFPNNeck',
        in_channels=[128, 256, 512],
        tasks=['det', 'enh'],
        out_channels=64,
        num_outs=5,
        add_extra_convs='on_output'))
