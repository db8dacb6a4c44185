# Dynamic weight average (MTAN) on the VOC + NYUD-v2 mixture; epoch-level weights.
_base_ = ['./ew_squad-retinanet_r50_voc-nyud.py']
model = dict(balancer=dict(type='DWA', temperature=2.0))
