"""Publish a checkpoint, load it through the safe loader with init_model, run inference."""
import os.path as osp
import subprocess
import sys

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_demo_underwater.py')
CASCADE = osp.join(ROOT, 'configs', 'baselines', 'cascade-enh-det_r18_demo_underwater.py')


def make_training_checkpoint(path):
    """A checkpoint shaped like mmengine's (message hub with a HistoryBuffer, optimiser)."""
    from mmengine.config import Config
    from mmengine.logging.history_buffer import HistoryBuffer

    from mtlunder.registry import MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    model = MODELS.build(Config.fromfile(DEMO).model)
    model.init_weights()
    buf = HistoryBuffer()
    buf.update(0.5)
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch.save(dict(meta=dict(epoch=3, iter=30, seed=np.int64(0),
                              dataset_meta=dict(classes=('holothurian', 'echinus',
                                                         'scallop', 'starfish'))),
                    state_dict=model.state_dict(), optimizer=optim.state_dict(),
                    message_hub=dict(log_scalars={'train/loss': buf})), path)
    return model


def test_publish_then_init_model_and_inference(tmp_path):
    import cv2

    from mtlunder.apis import inference_multitask, init_model

    model = make_training_checkpoint(str(tmp_path / 'epoch_3.pth'))
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'model_converters', 'publish_model.py'),
         str(tmp_path / 'epoch_3.pth'), str(tmp_path / 'squad_demo.pth')],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    published = proc.stdout.strip().split()[-1]
    assert osp.basename(published).startswith('squad_demo-') and published.endswith('.pth')
    from mtlunder.compat import safe_load

    content = safe_load(published)
    assert set(content) == {'meta', 'state_dict'}  # optimiser and message hub dropped

    loaded = init_model(DEMO, published, device='cpu')
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)
    assert loaded.dataset_meta['classes'][1] == 'echinus'

    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / 'frame.png'), img)
    for source in (img, str(tmp_path / 'frame.png')):
        result = inference_multitask(loaded, source)
        assert result.pred_clean.data.shape == (3, 200, 300)
        assert 0 <= float(result.pred_clean.data.min()) <= float(result.pred_clean.data.max()) <= 1
        boxes = result.pred_instances.bboxes
        assert boxes.shape[1] == 4
        if len(boxes):
            assert float(boxes[:, 2].max()) <= 300 + 1e-3 and float(boxes[:, 3].max()) <= 200 + 1e-3


def test_init_model_loads_the_cascade_whose_backbones_are_nested(tmp_path):
    from mmengine.config import Config

    from mtlunder.apis import inference_multitask, init_model
    from mtlunder.registry import MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    model = MODELS.build(Config.fromfile(CASCADE).model)
    model.init_weights()
    torch.save(dict(meta=dict(dataset_meta=dict(classes=('a', 'b', 'c', 'd'))),
                    state_dict=model.state_dict()), str(tmp_path / 'cascade.pth'))
    pretrained = dict(type='Pretrained', checkpoint=str(tmp_path / 'absent.pth'))
    loaded = init_model(CASCADE, str(tmp_path / 'cascade.pth'),
                        cfg_options={'model.enhancer.backbone.init_cfg': pretrained})
    assert loaded.cfg.model.enhancer.backbone.init_cfg is None
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)
    img = np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    result = inference_multitask(loaded, img)
    assert result.pred_clean.data.shape == (3, 96, 128)
    assert result.pred_instances.bboxes.shape[1] == 4
