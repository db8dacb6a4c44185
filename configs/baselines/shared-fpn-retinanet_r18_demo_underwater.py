# Hard parameter sharing baseline of the squad demo: one FPN shared by detection and
# enhancement (the enhancement head uses the first levels it needs).
_base_ = '../squad/squad-retinanet_r18_demo_underwater.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='SharedFPNNeck',
        in_channels={{_base_.model.neck.in_channels}},
        tasks={{_base_.model.neck.tasks}},
        out_channels={{_base_.model.neck.out_channels}},
        num_outs={{_base_.model.neck.num_outs}},
        add_extra_convs='on_output'))
