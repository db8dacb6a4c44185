"""MultiTaskDetector with a real mmdet RetinaHead and the EnhancementHead on tiny inputs."""
import copy

import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from mtlunder.structures.multitask_data_sample import MultiTaskDataSample

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.fixture(scope='module', autouse=True)
def scope():
    from mtlunder.utils import register_all_modules

    register_all_modules()


def model_cfg(tasks=('det', 'enh'), neck_type='SquadNeck'):
    heads = dict(
        det=dict(
            type='RetinaHead', num_classes=4, in_channels=16, feat_channels=16,
            stacked_convs=1,
            anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4,
                                  scales_per_octave=1, ratios=[1.0],
                                  strides=[8, 16, 32, 64]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0] * 4,
                            target_stds=[1.0] * 4),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                          loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        enh=dict(type='EnhancementHead', in_channels=[16, 16, 16], channels=8))
    return dict(
        type='MultiTaskDetector',
        data_preprocessor=dict(type='DetDataPreprocessor', mean=MEAN, std=STD,
                               bgr_to_rgb=True, pad_size_divisor=32),
        backbone=dict(type='ResNet', depth=18, base_channels=16, num_stages=4,
                      out_indices=(1, 2, 3), norm_cfg=dict(type='BN'), init_cfg=None),
        neck=dict(type=neck_type, in_channels=[32, 64, 128], tasks=list(tasks),
                  num_shared=2, group_channels=8, num_blocks=1, out_channels=16, num_outs=4),
        heads={t: heads[t] for t in tasks},
        train_cfg=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
                          min_pos_iou=0, ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'), allowed_border=-1, pos_weight=-1,
            debug=False),
        test_cfg=dict(nms_pre=100, min_bbox_size=0, score_thr=0.0,
                      nms=dict(type='nms', iou_threshold=0.5), max_per_img=5))


def build(tasks=('det', 'enh')):
    from mtlunder.registry import MODELS

    torch.manual_seed(0)
    return MODELS.build(model_cfg(tasks))


def make_batch(model, shapes=((64, 56), (48, 64)), refs=(True, True), tasks=None, scale=1.0):
    """Raw uint8 images -> the model's preprocessor; gt_clean normalised and padded alike."""
    g = torch.Generator().manual_seed(1)
    inputs, samples = [], []
    for i, (h, w) in enumerate(shapes):
        img = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
        ori = (round(h / scale), round(w / scale))
        meta = dict(img_shape=(h, w), ori_shape=ori, scale_factor=(scale, scale),
                    img_path=f'img{i}.png', img_id=i)
        if tasks is not None:
            meta['tasks'] = tasks[i]
        sample = MultiTaskDataSample(metainfo=meta)
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[4.0, 6.0, 30.0, 36.0]]), labels=torch.tensor([i % 4]))
        if refs[i]:
            ref = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
            sample.gt_clean = PixelData(data=ref)
        inputs.append(img)
        samples.append(sample)
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training=True)
    pre = model.data_preprocessor
    hp, wp = data['inputs'].shape[2:]
    for sample in data['data_samples']:
        if hasattr(sample, 'gt_clean'):  # what MultiTaskDataPreprocessor does to references
            ref = sample.gt_clean.data.float()[[2, 1, 0]]
            ref = (ref - pre.mean) / pre.std
            h, w = ref.shape[1:]
            sample.gt_clean = PixelData(
                data=torch.nn.functional.pad(ref, (0, wp - w, 0, hp - h)))
    return data['inputs'], data['data_samples']


def test_loss_has_det_and_enh_keys():
    model = build()
    inputs, samples = make_batch(model)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'det.loss_cls', 'det.loss_bbox', 'enh.loss_l1', 'enh.loss_ssim'}
    assert all(v.dim() == 0 and torch.isfinite(v) for v in losses.values())
    assert model.tasks == ('det', 'enh')


def test_no_reference_means_no_enh_key():
    model = build()
    inputs, samples = make_batch(model, refs=(False, False))
    assert set(model.loss(inputs, samples)) == {'det.loss_cls', 'det.loss_bbox'}


def test_tasks_metainfo_selects_the_heads():
    model = build()
    inputs, samples = make_batch(model, tasks=(('enh', ), ('enh', )))
    assert set(model.loss(inputs, samples)) == {'enh.loss_l1', 'enh.loss_ssim'}
    inputs, samples = make_batch(model, tasks=(('det', ), ('det', 'enh')), refs=(True, True))
    by_task = model.loss_by_task(inputs, samples)
    assert set(by_task) == {'det', 'enh'}
    # the enh head saw only sample 1: equal to its loss on that sample alone
    feats = model.extract_feat(inputs)['enh']
    alone = model.heads['enh'].loss([f[1:] for f in feats], inputs[1:], samples[1:])
    for key, value in alone.items():
        torch.testing.assert_close(by_task['enh'][key], value)


def test_loss_equals_loss_from_shared_and_detached_shared_works():
    model = build().eval()  # eval BN: two forwards give identical numbers
    inputs, samples = make_batch(model)
    direct = model.loss(inputs, samples)
    shared = model.extract_shared(inputs)
    assert isinstance(shared, tuple) and [s.shape[1] for s in shared] == [32, 64, 128]
    via = model.loss_from_shared(shared, samples, inputs)
    assert set(via) == set(direct)
    for key in direct:
        torch.testing.assert_close(via[key], direct[key])
    detached = tuple(s.detach().requires_grad_() for s in shared)
    losses = model.loss_from_shared(detached, samples, inputs)
    enh = losses['enh.loss_l1'] + losses['enh.loss_ssim']
    grads = torch.autograd.grad(enh, detached)
    assert all(torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)


def test_loss_from_shared_keeps_no_batch_between_calls():
    """The image head's inputs are passed, never remembered from ``extract_shared``."""
    model = build().eval()
    inputs, samples = make_batch(model)
    shared = model.extract_shared(inputs)
    with pytest.raises(RuntimeError, match="'enh' head reads the image"):
        model.loss_from_shared(shared, samples)
    det_inputs, det_samples = make_batch(model, tasks=[('det', ), ('det', )])
    losses = model.loss_from_shared(model.extract_shared(det_inputs), det_samples)
    assert set(losses) == {'det.loss_cls', 'det.loss_bbox'}


def test_parameter_partition_follows_the_gradients():
    model = build()
    inputs, samples = make_batch(model)
    shared = model.shared_parameters()
    det, enh = model.task_parameters('det'), model.task_parameters('enh')
    ids = [id(p) for p in shared + det + enh]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))
    losses = model.loss(inputs, samples)
    det_loss = losses['det.loss_cls'] + losses['det.loss_bbox']
    grads = torch.autograd.grad(det_loss, enh, allow_unused=True, retain_graph=True)
    assert all(g is None for g in grads)
    enh_loss = losses['enh.loss_l1'] + losses['enh.loss_ssim']
    grads = torch.autograd.grad(enh_loss, det, allow_unused=True)
    assert all(g is None for g in grads)
    with pytest.raises(KeyError, match='seg'):
        model.task_parameters('seg')


def test_predict_gives_boxes_and_clean_image_at_ori_shape():
    model = build().eval()
    inputs, samples = make_batch(model, scale=0.5)
    with torch.no_grad():
        results = model.predict(inputs, samples)
    for res in results:
        assert res.pred_instances.bboxes.shape[1] == 4 and len(res.pred_instances) <= 5
        img = res.pred_clean.data
        assert img.shape == (3, ) + tuple(res.metainfo['ori_shape'])
        assert img.min() >= 0 and img.max() <= 1
    with torch.no_grad():
        unscaled = model.predict(inputs, copy.deepcopy(samples), rescale=False)
    for res, raw in zip(results, unscaled):  # boxes rescaled to the original image
        torch.testing.assert_close(res.pred_instances.bboxes, raw.pred_instances.bboxes / 0.5)
        assert raw.pred_clean.data.shape[1:] == res.metainfo['img_shape']


def test_untrained_enhancement_is_close_to_the_input():
    """At initialisation pred_clean is about the de-normalised input (valid region)."""
    model = build().eval()
    inputs, samples = make_batch(model)
    raw = (inputs[0] * model.data_preprocessor.std + model.data_preprocessor.mean) / 255
    with torch.no_grad():
        res = model.predict(inputs, samples)[0]
    h, w = res.metainfo['img_shape']
    torch.testing.assert_close(res.pred_clean.data, raw[:, :h, :w].clamp(0, 1), atol=0.02,
                               rtol=0)


def test_tensor_mode_and_flops():
    from mmengine.analysis import get_model_complexity_info

    model = build().eval()
    outs = model(torch.randn(1, 3, 64, 64), mode='tensor')
    cls_scores, bbox_preds = outs['det']
    assert len(cls_scores) == 4 and outs['enh'].shape == (1, 3, 64, 64)
    info = get_model_complexity_info(model, input_shape=(3, 64, 64), show_table=False,
                                     show_arch=False)
    assert info['flops'] > 0 and info['params'] == sum(p.numel() for p in model.parameters())


def test_init_weights_reaches_the_heads():
    """mmdet's RetinaHead prior (bias_prob=0.01) and the enh head's near-zero last convs."""
    import math

    model = build()
    model.heads['det'].retina_cls.bias.data.fill_(3.0)
    model.heads['enh'].coeff_conv.weight.data.fill_(3.0)
    model.init_weights()
    prior = -math.log((1 - 0.01) / 0.01)
    torch.testing.assert_close(model.heads['det'].retina_cls.bias,
                               torch.full_like(model.heads['det'].retina_cls.bias, prior))
    assert model.heads['enh'].coeff_conv.weight.abs().max() < 0.01


@pytest.mark.parametrize('tasks', [('det', ), ('enh', )])
def test_single_task_models(tasks):
    model = build(tasks)
    inputs, samples = make_batch(model)
    losses = model.loss(inputs, samples)
    assert {k.split('.')[0] for k in losses} == set(tasks)
    assert model.task_parameters(tasks[0]) and model.shared_parameters()


def test_tuple_neck_feeds_every_head():
    from mtlunder.registry import MODELS

    cfg = model_cfg()
    cfg['neck'] = dict(type='FPN', in_channels=[32, 64, 128], out_channels=16,
                       add_extra_convs='on_output', num_outs=4)
    cfg['heads']['enh']['in_channels'] = [16, 16, 16, 16]
    model = MODELS.build(cfg)
    inputs, samples = make_batch(model)
    assert set(model.loss(inputs, samples)) >= {'det.loss_cls', 'enh.loss_l1'}
    assert len(model.shared_parameters()) == len(list(model.backbone.parameters())) + len(
        list(model.neck.parameters()))


def test_train_step_runs_and_heads_without_neck_output_fail():
    from mmengine.optim import OptimWrapper

    from mtlunder.registry import MODELS

    model = build()
    inputs, samples = make_batch(model)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    raw = [torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8) for _ in range(2)]
    for s in samples:
        del s.gt_clean
    log_vars = model.train_step(dict(inputs=raw, data_samples=samples), wrapper)
    assert set(log_vars) == {'loss', 'det.loss_cls', 'det.loss_bbox'}
    cfg = copy.deepcopy(model_cfg())
    cfg['neck']['tasks'] = ['det']
    with pytest.raises(ValueError, match='enh'):
        MODELS.build(cfg)


def test_with_multitask_data_preprocessor():
    """The real preprocessor: a reference equal to the input gives a near-zero L1 at init."""
    from mtlunder.registry import MODELS

    cfg = model_cfg()
    cfg['data_preprocessor']['type'] = 'MultiTaskDataPreprocessor'
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    g = torch.Generator().manual_seed(2)
    inputs, samples = [], []
    for i, (h, w) in enumerate(((64, 48), (40, 64))):
        img = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
        sample = MultiTaskDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                                   scale_factor=(1.0, 1.0),
                                                   tasks=('det', 'enh')))
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[2.0, 2.0, 30.0, 30.0]]),
                                           labels=torch.tensor([1]))
        sample.gt_clean = PixelData(data=img.float())
        inputs.append(img)
        samples.append(sample)
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training=True)
    by_task = model.loss_by_task(data['inputs'], data['data_samples'])
    assert 0 < by_task['enh']['loss_l1'] < 0.01
    assert by_task['enh']['loss_ssim'] < 0.01
    assert torch.isfinite(by_task['det']['loss_cls'])


def test_repr_gradient_step_passes_the_inputs_to_the_image_head():
    """MGDA-UB (grad_source='repr') on the detector: the enhancement head reads the batch
    inputs, which the step passes to ``loss_from_shared``; every part trains."""
    from mmengine.optim import OptimWrapper

    from mtlunder.registry import MODELS

    cfg = model_cfg()
    cfg['balancer'] = dict(type='MGDAUB')
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    _, samples = make_batch(model)
    raw = [torch.randint(0, 256, (3, 64, 64), generator=torch.Generator().manual_seed(3),
                         dtype=torch.uint8) for _ in range(2)]
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log_vars = model.train_step(dict(inputs=raw, data_samples=samples), wrapper)
    assert {'det.loss_cls', 'enh.loss_l1'} <= set(log_vars)
    assert set(model.balancer.last_weights) == {'det', 'enh'}
    for prefix in ('backbone.', 'heads.det.', 'heads.enh.'):
        assert any(not torch.equal(v, before[k]) for k, v in model.named_parameters()
                   if k.startswith(prefix)), prefix
