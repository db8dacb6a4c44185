"""The reference DeepLab head: parameter count, layout against the math, use as the decode
head of every dense task head, and its PyTorch-default initialisation."""
import math

import pytest
import torch
import torch.nn.functional as F

from mtlunder.registry import MODELS
from mtlunder.utils import register_all_modules

pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.fixture(scope='module', autouse=True)
def _scope():
    register_all_modules()


def _params(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_count_of_the_reference_head():
    head = MODELS.build(dict(type='DeepLabHead', in_channels=384, num_classes=1))
    assert _params(head) == 3_772_161
    # mmseg's ASPPHead, the documented option, on the same input and output
    aspp = MODELS.build(dict(type='mmseg.ASPPHead', in_channels=384, channels=256,
                             dilations=(1, 12, 24, 36), num_classes=1, in_index=0,
                             dropout_ratio=0.1, norm_cfg=dict(type='BN')))
    assert _params(aspp) == 5_803_265


def _conv_bn_relu(x, module):
    """ConvModule in eval mode, written out: conv -> BN (running stats) -> ReLU."""
    conv, bn = module.conv, module.bn
    y = F.conv2d(x, conv.weight, None, conv.stride, conv.padding, conv.dilation, conv.groups)
    y = F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0, bn.eps)
    return F.relu(y)


def test_forward_follows_the_reference_layout():
    """ASPP (1x1, 3x3 at dilations 2 / 3, image pooling) -> concat -> 1x1 -> dropout -> 3x3
    -> classifier, recomputed from the head's own weights."""
    torch.manual_seed(0)
    head = MODELS.build(dict(type='DeepLabHead', in_channels=6, num_classes=3, channels=4,
                             dilations=(1, 2, 3), in_index=1)).eval()
    for m in head.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    x = torch.randn(2, 6, 9, 11)
    with torch.no_grad():
        out = head([torch.zeros(2, 6, 9, 11), x])
        branches = [_conv_bn_relu(x, m) for m in head.aspp_modules]
        pooled = _conv_bn_relu(x.mean(dim=(2, 3), keepdim=True), head.image_pool[1])
        branches.append(pooled.expand(-1, -1, 9, 11))
        y = _conv_bn_relu(torch.cat(branches, dim=1), head.bottleneck[0])
        y = _conv_bn_relu(y, head.bottleneck[2])
        expected = head.conv_seg(y)
    assert out.shape == (2, 3, 9, 11)
    assert torch.allclose(out, expected, atol=1e-5)
    dilations = [m.conv.dilation[0] for m in head.aspp_modules]
    kernels = [m.conv.kernel_size[0] for m in head.aspp_modules]
    assert dilations == [1, 2, 3] and kernels == [1, 3, 3]
    assert head.bottleneck[0].conv.kernel_size == (1, 1)
    assert head.bottleneck[0].conv.in_channels == 4 * 4
    assert isinstance(head.bottleneck[1], torch.nn.Dropout) and head.bottleneck[1].p == 0.5
    assert head.bottleneck[2].conv.kernel_size == (3, 3)


def test_dropout_acts_after_the_projection_in_training():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='DeepLabHead', in_channels=6, num_classes=2, channels=8,
                             dilations=(1, 2)))
    seen = {}
    head.bottleneck[1].register_forward_hook(lambda m, i, o: seen.update(i=i[0], o=o))
    head([torch.randn(2, 6, 8, 8)])
    dropped = (seen['o'] == 0) & (seen['i'] != 0)
    assert 0.3 < dropped.float().sum() / (seen['i'] != 0).float().sum() < 0.7


@pytest.mark.parametrize('head_type,channels', [
    ('SegHead', 5), ('DepthHead', 1), ('NormalHead', 3), ('EdgeHead', 1),
    ('SaliencyHead', 1), ('PartsHead', 7)])
def test_every_dense_task_head_takes_it_as_decode_head(head_type, channels):
    deeplab = dict(type='DeepLabHead', in_channels=24, channels=8, dilations=(1, 2, 3, 4),
                   in_index=0)
    if head_type == 'SegHead':
        deeplab['num_classes'] = channels
    head = MODELS.build(dict(type=head_type, decode_head=deeplab))
    assert head([torch.randn(2, 24, 8, 8)], None).shape == (2, channels, 8, 8)


def test_default_init_is_pytorchs_conv_init():
    head = MODELS.build(dict(type='DeepLabHead', in_channels=64, num_classes=2, channels=32))
    head.init_weights()
    convs = [m for m in head.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 8  # 4 ASPP, image pool, projection, 3x3, classifier
    for conv in convs:
        bound = 1 / math.sqrt(conv.weight[0].numel())  # kaiming_uniform_(a=sqrt(5))
        assert conv.weight.abs().max() <= bound + 1e-7
        assert conv.weight.abs().max() > 0.9 * bound
    assert torch.equal(head.conv_seg.bias, torch.zeros(2))
