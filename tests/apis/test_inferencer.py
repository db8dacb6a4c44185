"""MultiTaskInferencer of the det + enh demo on real underwater images, arrays, lists, a
folder with a corrupt file, a short video, and the two demo scripts."""
import json
import logging
import os
import os.path as osp
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_demo_underwater.py')
#: Real public samples kept outside the project (see ../shared/data/README.md).
RUIE = Path(ROOT).parent / 'shared' / 'data' / 'ruie_utts' / 'pic_A' / 'JPEGImages'
CLASSES = ('holothurian', 'echinus', 'scallop', 'starfish')

pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.fixture(scope='module')
def real_images():
    """Three real 400x300 RUIE JPEGs; skips when ../shared/data is absent."""
    files = sorted(RUIE.glob('*.jpg')) if RUIE.is_dir() else []
    if len(files) < 3:
        pytest.skip(f'real RUIE samples not found at {RUIE} (a user checkout has no '
                    '../shared/data)')
    return [str(f) for f in files[:3]]


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """An initialised demo model saved like a release file. The classification bias is
    set to 0 (score 0.5 everywhere instead of the 0.01 focal prior) so that boxes pass the
    model's test_cfg.score_thr=0.05 and every image gets max_per_img=100 boxes."""
    from mmengine.config import Config

    from mtlunder.registry import MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(DEMO).model)
    model.init_weights()
    torch.nn.init.zeros_(model.heads['det'].retina_cls.bias)
    path = str(tmp_path_factory.mktemp('ckpt') / 'squad_demo.pth')
    torch.save(dict(meta=dict(dataset_meta=dict(classes=CLASSES)),
                    state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def inferencer(checkpoint):
    from mtlunder.apis import MultiTaskInferencer

    return MultiTaskInferencer(DEMO, checkpoint, device='cpu', score_thr=0.0)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _no_temp_files(folder):
    return [f for _, _, files in os.walk(folder) for f in files if '.tmp-' in f] == []


def _check_pred(pred, width, height):
    assert {'labels', 'scores', 'bboxes'} <= set(pred)
    assert len(pred['labels']) == len(pred['scores']) == len(pred['bboxes']) > 0
    boxes = np.asarray(pred['bboxes'])
    assert boxes.shape[1] == 4 and (boxes[:, 2] >= boxes[:, 0]).all()
    assert boxes.min() >= -1e-3 and boxes[:, [0, 2]].max() <= width + 1e-2
    assert boxes[:, [1, 3]].max() <= height + 1e-2
    assert set(pred['labels']) <= set(range(len(CLASSES)))


def test_metafile_name_resolves_to_its_config():
    from mtlunder.apis import MultiTaskInferencer
    from mtlunder.apis.inferencer import resolve_model

    assert resolve_model('squad-retinanet_r18_demo_underwater') == (DEMO, None)
    assert resolve_model(DEMO) == (DEMO, None)
    assert 'squad-retinanet_r18_demo_underwater' in MultiTaskInferencer.list_models()
    with pytest.raises(ValueError, match='known: .*squad-retinanet_r18_demo_underwater'):
        resolve_model('no-such-model')
    # no weights: initialised model with the config's class names (not mmdet's COCO ones)
    inf = MultiTaskInferencer('squad-retinanet_r18_demo_underwater')
    assert inf.cfg.filename == DEMO and inf.classes == CLASSES


def test_folder_with_a_corrupt_image_is_named_and_skipped(tmp_path, inferencer, real_images):
    import cv2

    folder = tmp_path / 'frames'
    folder.mkdir()
    for f in real_images:
        shutil.copy(f, folder)
    data = Path(real_images[0]).read_bytes()
    (folder / 'broken.jpg').write_bytes(data[:len(data) // 2])  # cut mid-scan
    (folder / 'notes.txt').write_text('not an image')
    records = _Records()
    inferencer.logger.addHandler(records)
    try:
        result = inferencer(str(folder), out_dir=str(tmp_path / 'out'), show_progress=False)
    finally:
        inferencer.logger.removeHandler(records)

    broken = str(folder / 'broken.jpg')
    assert result['skipped'] == [broken]
    assert any(broken in m and 'truncated JPEG' in m for m in records.messages)
    assert any('skipped 1 of 4 inputs' in m for m in records.messages)
    names = sorted(osp.basename(f) for f in real_images)
    assert [osp.basename(p['img_path']) for p in result['predictions']] == names
    for pred in result['predictions']:
        _check_pred(pred, 400, 300)
        stem = osp.splitext(osp.basename(pred['img_path']))[0]
        enhanced = cv2.imread(str(tmp_path / 'out' / 'enh' / f'{stem}.png'))
        vis = cv2.imread(str(tmp_path / 'out' / 'vis' / f'{stem}.jpg'))
        assert enhanced.shape == (300, 400, 3)
        assert vis.shape == (300, 2 * 400 + 4, 3)  # pred det | pred enh
        saved = json.loads((tmp_path / 'out' / 'preds' / f'{stem}.json').read_text())
        assert {k: saved[k] for k in ('labels', 'scores', 'bboxes')} == \
            {k: pred[k] for k in ('labels', 'scores', 'bboxes')}
    assert not (tmp_path / 'out' / 'preds' / 'broken.json').exists()
    assert _no_temp_files(tmp_path / 'out')


def test_array_and_list_inputs(tmp_path, inferencer, real_images):
    import cv2

    img = cv2.imread(real_images[0])
    one = inferencer(img, show_progress=False, return_vis=True)
    pred = one['predictions'][0]
    assert pred['img_path'] is None and pred['img_index'] == 0
    _check_pred(pred, 400, 300)
    vis = one['visualization'][0]  # RGB: input + boxes | enhanced
    assert one['enhanced'][0].shape == img.shape and vis.shape == (300, 804, 3)
    assert vis.dtype == np.uint8
    assert not np.array_equal(vis[:, :400], img[..., ::-1])  # boxes drawn
    np.testing.assert_array_equal(vis[:250, 404:], one['enhanced'][0][:250, :, ::-1])

    bad_video = tmp_path / 'bad.mp4'
    bad_video.write_bytes(b'\x00' * 64)
    out = tmp_path / 'out'
    both = inferencer([real_images[0], img, str(bad_video)], out_dir=str(out), batch_size=2,
                      show_progress=False)
    assert both['skipped'] == [str(bad_video)]
    from_path, from_array = both['predictions']
    assert from_path['img_path'] == real_images[0] and from_array['img_index'] == 1
    # the same pixels (mmcv's cv2 decode) give the same boxes, file or array
    assert len(from_path['bboxes']) == len(pred['bboxes'])
    np.testing.assert_allclose(from_path['bboxes'], from_array['bboxes'], atol=0.05)
    stem = osp.splitext(osp.basename(real_images[0]))[0]
    assert sorted(os.listdir(out / 'preds')) == sorted([f'{stem}.json', '00000001.json'])
    assert sorted(os.listdir(out / 'vis')) == sorted([f'{stem}.jpg', '00000001.jpg'])


def _write_video(path, first_image, frames=5, size=(320, 240), fps=10.0):
    import cv2

    base = cv2.resize(cv2.imread(first_image), size)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.roll(base, 8 * i, axis=1))  # a panning camera
    writer.release()


def _video_info(path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    info = (count, int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), cap.get(cv2.CAP_PROP_FPS))
    cap.release()
    return info


def test_video_frames_in_annotated_enhanced_video_out(tmp_path, inferencer, real_images):
    video = tmp_path / 'clip.mp4'
    _write_video(video, real_images[0])
    result = inferencer(str(video), out_dir=str(tmp_path / 'out'), show_progress=False)

    assert [p['frame'] for p in result['predictions']] == [0, 1, 2, 3, 4]
    assert all(p['video'] == str(video) for p in result['predictions'])
    for pred in result['predictions']:
        _check_pred(pred, 320, 240)
    count, width, height, fps = _video_info(tmp_path / 'out' / 'clip_vis.mp4')
    assert (count, width, height) == (5, 2 * 320 + 4, 240) and fps == pytest.approx(10.0)
    doc = json.loads((tmp_path / 'out' / 'preds' / 'clip.json').read_text())
    assert (doc['num_frames'], doc['width'], doc['height']) == (5, 320, 240)
    assert [f['frame'] for f in doc['frames']] == [0, 1, 2, 3, 4]
    assert {'labels', 'scores', 'bboxes'} <= set(doc['frames'][0])
    assert doc['frames'][0]['bboxes'] == result['predictions'][0]['bboxes']
    assert _no_temp_files(tmp_path / 'out')


def test_demo_scripts(tmp_path, checkpoint, real_images):
    """Both demos in one process each: image_demo on a folder, video_demo on a clip."""
    video = tmp_path / 'clip.mp4'
    _write_video(video, real_images[0], frames=3)
    (tmp_path / 'imgs').mkdir()
    shutil.copy(real_images[1], tmp_path / 'imgs')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'demo', 'image_demo.py'), str(tmp_path / 'imgs'),
         DEMO, checkpoint, '--out-dir', str(tmp_path / 'out'), '--score-thr', '0.0'],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stem = osp.splitext(osp.basename(real_images[1]))[0]
    assert (tmp_path / 'out' / 'vis' / f'{stem}.jpg').is_file()
    assert '1 images / frames, 0 skipped' in proc.stdout
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'demo', 'video_demo.py'), str(video), DEMO,
         checkpoint, '--out', str(tmp_path / 'annotated.mp4'), '--score-thr', '0.0'],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _video_info(tmp_path / 'annotated.mp4')[:3] == (3, 2 * 320 + 4, 240)
    doc = json.loads((tmp_path / 'annotated.json').read_text())
    assert doc['num_frames'] == 3 and len(doc['frames'][2]['bboxes']) > 0


def test_demo_scripts_fail_when_nothing_is_processed(tmp_path, checkpoint):
    """image_demo on a folder whose only image is corrupt, video_demo on a file that is not
    a video: status 1, one error line, no traceback, no claim that results were written."""
    (tmp_path / 'imgs').mkdir()
    (tmp_path / 'imgs' / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not a jpeg')
    (tmp_path / 'clip.mp4').write_bytes(b'not a video at all')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'demo', 'image_demo.py'), str(tmp_path / 'imgs'),
         DEMO, checkpoint, '--out-dir', str(tmp_path / 'out')],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'results written' not in proc.stdout and not (tmp_path / 'out').exists()
    assert 'broken.jpg' in proc.stderr and 'error: nothing processed' in proc.stderr
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'demo', 'video_demo.py'), str(tmp_path / 'clip.mp4'),
         DEMO, checkpoint, '--out', str(tmp_path / 'annotated.mp4')],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and errors[0].startswith(f'error: {tmp_path / "clip.mp4"}: ')
    assert errors[0].endswith('; nothing written')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['clip.mp4', 'imgs']
