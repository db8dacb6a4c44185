# The squad demo with the SquadNeck swapped for an ETR-NLP neck (explicit task routing with
# fixed primitives, sharing ratio 0.5; a reconstruction, see docs/architectures.md).
_base_ = '../squad/squad-retinanet_r18_demo_underwater.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='ETRNeck',
        in_channels=[128, 256, 512],
        tasks=['det', 'enh'],
        out_channels=64,
        num_outs=5,
        num_blocks=1,
        gamma=0.5,
        exclusive='conv',
        add_extra_convs='on_output'))
