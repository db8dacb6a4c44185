# The squad demo with the SquadNeck swapped for an ETR-NLP neck (explicit task routing with
# fixed primitives, sharing ratio 0.5; a reconstruction, see docs/architectures.md).
_base_ = '../squad/squad-retinanet_r18_demo_underwater.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='ETRNeck',
        in_channels={{_base_.model.neck.in_channels}},
        tasks={{_base_.model.neck.tasks}},
        out_channels={{_base_.model.neck.out_channels}},
        num_outs={{_base_.model.neck.num_outs}},
        num_blocks=1,
        gamma=0.5,
        exclusive='conv',
        add_extra_convs='on_output'))
