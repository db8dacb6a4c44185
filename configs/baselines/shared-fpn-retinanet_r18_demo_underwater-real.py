# Hard parameter sharing baseline of the real demo (squad-retinanet_r18_demo_underwater-real.py):
# the shared FPN of shared-fpn-retinanet_r18_demo_underwater.py on the real mixed benchmark,
# with the real demo's task-balanced batches, schedule and metrics.
_base_ = '../squad/squad-retinanet_r18_demo_underwater-real.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='SharedFPNNeck',
        in_channels={{_base_.model.neck.in_channels}},
        tasks={{_base_.model.neck.tasks}},
        out_channels={{_base_.model.neck.out_channels}},
        num_outs={{_base_.model.neck.num_outs}},
        add_extra_convs='on_output'))
