# Geometric loss strategy, exp(mean_i log L_i), on the VOC + NYUD-v2 mixture.
_base_ = ['./ew_squad-retinanet_r50_voc-nyud.py']
model = dict(balancer=dict(type='GLS'))
