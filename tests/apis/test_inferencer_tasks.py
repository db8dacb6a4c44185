"""MultiTaskInferencer writes every task's files, chosen by label kind, for the 4-task
underwater, NYUD-v2 and PASCAL-Context demo models (initialised, no checkpoint) on real
frames of ../shared/data, and an annotated video with every task's panel."""
import json
import os
import os.path as osp

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOUR_TASK = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_4task_demo_underwater.py')
NYUD = osp.join(ROOT, 'configs', 'nyud', 'squadnet-tiny_seg-depth_demo_nyud.py')
PASCAL = osp.join(ROOT, 'configs', 'pascal_context',
                  'squadnet-tiny_4task_demo_pascal-context.py')

pytestmark = pytest.mark.usefixtures('single_thread')


def _inferencer(config):
    import torch

    from mtlunder.apis import MultiTaskInferencer

    torch.manual_seed(0)
    return MultiTaskInferencer(config, device='cpu', score_thr=0.0, show_progress=False)


def _check_files(out, pred, sample, height, width):
    """Every file of ``pred['files']`` exists with the size and dtype its task's label kind
    asks for, and holds the prediction of ``sample``; returns the tasks written."""
    import cv2
    from PIL import Image

    from mtlunder.apis.inferencer import DEPTH_PNG_SCALE
    from mtlunder.structures import TASK_SPECS

    doc = json.loads((out / pred['files']['preds'][0]).read_text())
    assert doc['files'] == pred['files']
    for rel in (f for files in doc['files'].values() for f in files):
        assert (out / rel).is_file(), rel
    vis = cv2.imread(str(out / doc['files']['vis'][0]))
    assert vis.shape[0] == height and vis.dtype == np.uint8
    for spec in TASK_SPECS.values():
        if spec.pred_field not in sample:
            assert spec.name not in doc['files']
            continue
        data = sample.get(spec.pred_field)
        if spec.kind == 'boxes':
            assert len(doc['labels']) == len(doc['scores']) == len(doc['bboxes'])
            continue
        files = doc['files'][spec.name]
        main = cv2.imread(str(out / files[0]), cv2.IMREAD_UNCHANGED)
        if spec.kind == 'image':
            assert main.shape == (height, width, 3) and main.dtype == np.uint8
            expected = (data.data.clamp(0, 1) * 255).round().byte().numpy()[::-1]
            np.testing.assert_array_equal(main, expected.transpose(1, 2, 0))
        elif spec.kind == 'continuous_map':
            assert main.shape == (height, width) and main.dtype == np.uint16
            metres = data.data[0].numpy().clip(0, 65.535)  # uint16 mm range; 0 = none
            np.testing.assert_allclose(main / DEPTH_PNG_SCALE, metres, atol=0.6e-3)
            assert cv2.imread(str(out / files[1])).shape == (height, width, 3)
        elif spec.kind == 'unit_vector_map':
            assert main.shape == (height, width, 3) and main.dtype == np.uint8
            rgb = main[..., ::-1].astype(float) / 255 * 2 - 1
            np.testing.assert_allclose(rgb, data.data.numpy().transpose(1, 2, 0), atol=0.01)
        elif data.data.is_floating_point():  # two-class probability map
            assert main.shape == (height, width) and main.dtype == np.uint8
            np.testing.assert_allclose(main / 255, data.data[0].numpy(), atol=0.5 / 255)
        else:  # class map: palette PNG of the indices + overlay
            png = Image.open(out / files[0])
            assert png.mode == 'P' and png.size == (width, height)
            np.testing.assert_array_equal(np.asarray(png), data.data[0].numpy())
            assert cv2.imread(str(out / files[1])).shape == (height, width, 3)
    return set(doc['files']) - {'vis', 'preds'}


def test_four_task_model_writes_every_task_on_real_utts_images(shared_data, tmp_path):
    """det + enh + seg + depth on two real 400x300 RUIE-UTTS JPEGs."""
    frames = sorted((shared_data / 'ruie_utts' / 'pic_A' / 'JPEGImages').glob('*.jpg'))[:2]
    inferencer = _inferencer(FOUR_TASK)
    out = tmp_path / 'out'
    result = inferencer([str(f) for f in frames], out_dir=str(out), batch_size=2,
                        return_datasamples=True)
    assert len(result['predictions']) == 2 and not result['skipped']
    for sample, frame in zip(result['predictions'], frames):
        stem = frame.stem
        pred = dict(files=json.loads((out / 'preds' / f'{stem}.json').read_text())['files'])
        assert _check_files(out, pred, sample, 300, 400) == {'enh', 'seg', 'depth'}
        # pred det | pred enh | pred seg | pred depth
        assert _read_shape(out / 'vis' / f'{stem}.jpg') == (300, 4 * 400 + 12, 3)
    assert [f for _, _, files in os.walk(out) for f in files if '.tmp-' in f] == []


def _read_shape(path):
    import cv2

    return cv2.imread(str(path)).shape


def test_nyud_model_on_the_shared_nyud_frame(shared_data, tmp_path):
    import torch

    frame = shared_data / 'nyud_samples' / 'ExpNYUD_three' / '000433.png'
    inferencer = _inferencer(NYUD)
    out = tmp_path / 'out'
    result = inferencer(str(frame), out_dir=str(out))
    pred = result['predictions'][0]
    assert pred['img_path'] == str(frame) and 'bboxes' not in pred  # no box task
    samples = inferencer(str(frame), return_datasamples=True, write=False)['predictions']
    assert torch.equal(samples[0].pred_sem_seg.data, samples[0].pred_sem_seg.data.long())
    assert _check_files(out, pred, samples[0], 480, 640) == {'seg', 'depth'}
    # input | pred seg | pred depth
    assert _read_shape(out / 'vis' / '000433.jpg') == (480, 3 * 640 + 8, 3)


def test_pascal_context_model_writes_normals_saliency_and_parts(shared_data, tmp_path):
    frame = shared_data / 'nyud_samples' / 'ExpNYUD_joint' / '000464.png'
    inferencer = _inferencer(PASCAL)
    out = tmp_path / 'out'
    pred = inferencer(str(frame), out_dir=str(out))['predictions'][0]
    sample = inferencer(str(frame), return_datasamples=True, write=False)['predictions'][0]
    assert _check_files(out, pred, sample, 480, 640) == {'seg', 'parts', 'sal', 'normal'}


def test_short_video_through_the_four_task_model(shared_data, tmp_path):
    """Three 160x120 frames: one annotated video with det | enh | seg | depth side by side."""
    import cv2

    first = sorted((shared_data / 'ruie_utts' / 'pic_A' / 'JPEGImages').glob('*.jpg'))[0]
    base = cv2.resize(cv2.imread(str(first)), (160, 120))
    video = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5.0, (160, 120))
    for i in range(3):
        writer.write(np.roll(base, 6 * i, axis=1))
    writer.release()
    inferencer = _inferencer(FOUR_TASK)
    result = inferencer(str(video), out_dir=str(tmp_path / 'out'), return_vis=True)
    assert [p['frame'] for p in result['predictions']] == [0, 1, 2]
    assert result['visualization'][0].shape == (120, 4 * 160 + 12, 3)
    assert len(result['enhanced']) == 3 and result['enhanced'][0].shape == (120, 160, 3)
    cap = cv2.VideoCapture(str(tmp_path / 'out' / 'clip_vis.mp4'))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    assert len(frames) == 3 and frames[0].shape == (120, 652, 3)
    # the video holds the drawn pictures (lossy codec: close, not equal)
    diff = np.abs(frames[1].astype(int) - result['visualization'][1][..., ::-1]).mean()
    assert diff < 12
    doc = json.loads((tmp_path / 'out' / 'preds' / 'clip.json').read_text())
    assert doc['num_frames'] == 3 and (doc['width'], doc['height']) == (160, 120)
    assert {'labels', 'scores', 'bboxes'} <= set(doc['frames'][0])


def test_loading_transform_is_found_by_type_and_label_loaders_go():
    """A pipeline whose image loader is not the first step still works; one without an
    image loader is refused naming the config."""
    from mmengine.config import Config

    from mtlunder.apis import MultiTaskInferencer

    cfg = Config.fromfile(NYUD)
    steps = cfg.test_dataloader.dataset.pipeline
    load = next(s for s in steps if s.type == 'LoadImageFromFile')
    cfg.test_dataloader.dataset.pipeline = (
        [dict(type='LoadDenseAnnotations'), dict(load, type='mmdet.LoadImageFromFile')]
        + [s for s in steps if s is not load and s.type != 'LoadDenseAnnotations'])
    inferencer = MultiTaskInferencer(cfg, show_progress=False)
    kinds = [type(t).__name__ for t in inferencer.pipeline.transforms]
    assert kinds[0] == 'LoadImageFromNDArray' and 'LoadDenseAnnotations' not in kinds
    img = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    sample = inferencer(img, return_datasamples=True)['predictions'][0]
    assert sample.pred_depth.data.shape == (1, 60, 80)
    cfg.test_dataloader.dataset.pipeline = [s for s in steps if s is not load]
    with pytest.raises(ValueError, match='no image loading transform.*'):
        MultiTaskInferencer(cfg, show_progress=False)


def test_save_switches_and_score_threshold(tmp_path):
    import torch

    inferencer = _inferencer(FOUR_TASK)
    torch.nn.init.zeros_(inferencer.model.heads['det'].retina_cls.bias)  # score 0.5 boxes
    img = np.random.default_rng(1).integers(0, 255, (64, 96, 3), dtype=np.uint8)
    no_vis = inferencer(img, out_dir=str(tmp_path / 'a'), no_save_vis=True)
    assert not (tmp_path / 'a' / 'vis').exists() and (tmp_path / 'a' / 'preds').is_dir()
    assert 'vis' not in no_vis['predictions'][0]['files']
    inferencer(img, out_dir=str(tmp_path / 'b'), no_save_pred=True)
    assert sorted(p.name for p in (tmp_path / 'b').iterdir()) == ['vis']
    kept = inferencer(img, pred_score_thr=0.4, write=False)['predictions'][0]
    dropped = inferencer(img, pred_score_thr=0.6, write=False)['predictions'][0]
    assert len(kept['scores']) > 0 and min(kept['scores']) >= 0.4
    assert dropped['labels'] == dropped['scores'] == dropped['bboxes'] == []
    raw = inferencer(img, return_datasamples=True)['predictions'][0]
    assert len(raw.pred_instances) == len(kept['scores'])  # data samples are unfiltered


def test_demo_scripts_with_dense_model_families(shared_data, tmp_path):
    """image_demo with the NYUD-v2 demo, video_demo with the PASCAL-Context demo
    (initialised weights: checkpoint ``none``)."""
    import subprocess
    import sys

    import cv2

    env = dict(os.environ, OMP_NUM_THREADS='1')
    frame = shared_data / 'nyud_samples' / 'ExpNYUD_three' / '000433.png'
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'demo', 'image_demo.py'), str(frame), NYUD, 'none',
         '--out-dir', str(tmp_path / 'out')],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'wrote vis/000433.jpg, seg/000433.png' in proc.stdout
    assert (tmp_path / 'out' / 'depth' / '000433.png').is_file()
    video = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5.0, (128, 96))
    for i in range(2):
        writer.write(np.roll(cv2.resize(cv2.imread(str(frame)), (128, 96)), 4 * i, axis=1))
    writer.release()
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'demo', 'video_demo.py'), str(video), PASCAL, 'none',
         '--out', str(tmp_path / 'annotated.mp4')],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cap = cv2.VideoCapture(str(tmp_path / 'annotated.mp4'))
    # input | seg | parts | sal | normal
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) \
        == (5 * 128 + 16, 96)
    cap.release()


def test_video_with_data_samples_still_writes_its_json(shared_data, tmp_path):
    import cv2

    first = sorted((shared_data / 'ruie_utts' / 'pic_A' / 'JPEGImages').glob('*.jpg'))[0]
    video = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'XVID'), 5.0, (96, 64))
    for _ in range(2):
        writer.write(cv2.resize(cv2.imread(str(first)), (96, 64)))
    writer.release()
    result = _inferencer(FOUR_TASK)(str(video), out_dir=str(tmp_path / 'out'),
                                    return_datasamples=True, no_save_vis=True)
    samples = result['predictions']
    assert [s.metainfo['frame'] for s in samples] == [0, 1] and 'pred_depth' in samples[0]
    doc = json.loads((tmp_path / 'out' / 'preds' / 'clip.json').read_text())
    assert [f['frame'] for f in doc['frames']] == [0, 1]
    assert not (tmp_path / 'out' / 'clip_vis.mp4').exists()
