"""MultiTaskInferencer: images, folders, arrays and videos in; boxes and enhanced images out.

In the style of mmdet's ``DetInferencer`` (prediction keys ``labels``, ``scores``,
``bboxes``; output folders ``vis/`` and ``preds/``), for the joint detection + enhancement
models: it also writes the enhanced image (``enhanced/``) and draws the boxes on it.
"""
import glob
import json
import logging
import os
import os.path as osp
import sys
import uuid
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv')
#: ``configs/`` of the source tree (mtlunder is installed in editable mode).
CONFIG_ROOT = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


# ---------------------------------------------------------------------- model names
def list_models(config_root: str = CONFIG_ROOT) -> Dict[str, dict]:
    """``{name: metafile entry}`` of every model in ``<config_root>/*/metafile.yml``."""
    import yaml

    models = {}
    for path in sorted(glob.glob(osp.join(config_root, '*', 'metafile.yml'))):
        with open(path) as f:
            meta = yaml.safe_load(f) or {}
        for entry in meta.get('Models') or []:
            models[entry['Name']] = entry
    return models


def resolve_model(model, config_root: str = CONFIG_ROOT) -> Tuple[object, Optional[str]]:
    """``(config path or Config, metafile weights or None)`` of a config path, a
    :class:`Config` or a metafile model name (e.g. ``'squad-retinanet_r18_demo_underwater'``).
    """
    from mmengine.config import Config

    if isinstance(model, Config) or (isinstance(model, str) and osp.isfile(model)):
        return model, None
    if not isinstance(model, str):
        raise TypeError(f'model must be a config path, a Config or a model name, got '
                        f'{type(model).__name__}')
    models = list_models(config_root)
    if model not in models:
        raise ValueError(f'{model!r} is neither a config file nor a model of '
                         f'{config_root}/*/metafile.yml (known: {", ".join(sorted(models))})')
    entry = models[model]
    config = osp.join(osp.dirname(config_root), entry['Config'])
    if not osp.isfile(config):
        raise FileNotFoundError(f'metafile model {model!r} names config {config}, not found')
    return config, entry.get('Weights') or None


# ---------------------------------------------------------------------- file access
class UnreadableInput(OSError):
    """An input image or video that cannot be read or decoded (the message names it)."""


def _atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file in ``path``'s folder, then ``os.replace`` it."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.tmp-{uuid.uuid4().hex[:8]}')
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _atomic_imwrite(path: str, img: np.ndarray) -> None:
    """Encode a BGR uint8 image [H, W, 3] by ``path``'s extension and write it atomically.

    cv2's PNG defaults: with OpenCV 5 they encoded a 640x480 frame in 9 ms (479 KB), faster
    and smaller than an explicit ``IMWRITE_PNG_COMPRESSION`` of 1 (22 ms, 529 KB).
    """
    import cv2

    ok, buf = cv2.imencode(osp.splitext(path)[1], img)
    if not ok:
        raise OSError(f'cannot encode an image for {path}')
    _atomic_write_bytes(path, buf.tobytes())


def truncation_reason(data: bytes) -> Optional[str]:
    """Why a JPEG / PNG byte string is incomplete, or None (other formats: None).

    OpenCV 4.x decodes a truncated JPEG with only a libjpeg warning (the missing rows come
    out grey; OpenCV 5 refuses it), so the structure is checked too, whatever the build: a
    JPEG needs an end-of-image marker after its last start-of-scan (neither can occur
    inside entropy-coded data), a PNG its ``IEND`` chunk. On ../shared/data (642 JPEG / PNG
    files) this flags exactly the two files PIL's full decode finds truncated.
    """
    if data[:2] == b'\xff\xd8':
        sos = data.rfind(b'\xff\xda')
        if sos < 0:
            return 'truncated JPEG (no image data)'
        if data.find(b'\xff\xd9', sos) < 0:
            return 'truncated JPEG (no end-of-image marker)'
    elif data[:8] == b'\x89PNG\r\n\x1a\n' and data.rfind(b'IEND') < 0:
        return 'truncated PNG (no IEND chunk)'
    return None


def read_image(path: str, flag: str = 'color', backend: str = 'cv2') -> np.ndarray:
    """Decode an image file to BGR uint8 [H, W, 3] as mmcv's ``LoadImageFromFile`` does.

    Raises:
        UnreadableInput: naming ``path``, when it cannot be read, is truncated or does not
            decode.
    """
    import mmcv

    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        raise UnreadableInput(f'{path}: cannot read ({err})') from err
    reason = truncation_reason(data)
    img = None
    if reason is None:
        try:
            img = mmcv.imfrombytes(data, flag=flag, backend=backend)
        except Exception as err:  # decoders raise many types on garbage
            reason = f'cannot decode ({err})'
    if img is None:
        raise UnreadableInput(f'{path}: {reason or "cannot decode"}')
    return img


def list_images(folder: str) -> List[str]:
    """Image files directly in ``folder`` (extension in ``IMAGE_EXTS``, any case), sorted."""
    return sorted(osp.join(folder, f) for f in os.listdir(folder)
                  if osp.splitext(f)[1].lower() in IMAGE_EXTS
                  and osp.isfile(osp.join(folder, f)))


def _video_writer(path: str, fps: float, size: Tuple[int, int]):
    """An opened ``cv2.VideoWriter`` (``mp4v``; ``XVID`` for .avi); size is (W, H)."""
    import cv2

    fourcc = 'XVID' if path.lower().endswith('.avi') else 'mp4v'
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise OSError(f'cv2.VideoWriter cannot write {path} ({fourcc})')
    return writer


class _Names:
    """Output stems, unique within one call (``a``, ``a_1``, ... for repeated stems)."""

    def __init__(self):
        self.used = set()

    def __call__(self, stem: str) -> str:
        name, k = stem, 0
        while name in self.used:
            k += 1
            name = f'{stem}_{k}'
        self.used.add(name)
        return name


# ---------------------------------------------------------------------- inferencer
class MultiTaskInferencer:
    """Detect and enhance images, folders, arrays and videos with one multi-task model.

    Call graph::

        __init__  resolve_model (path | Config | metafile name) -> init_model
                  (+ init_weights when weights is None) -> build_test_pipeline(from_array)
        __call__(inputs)
          _expand: path | folder (list_images) | BGR array | video | list -> items
          for each item (one progress bar over images and video frames):
            image: read_image (corrupt -> warning, 'skipped') -> batch of batch_size
                   -> _flush: predict (pipeline, model.test_step) -> _unpack (score_thr)
                      -> draw on the enhanced image -> enhanced/ vis/ preds/ (atomic)
            video: run_video: cv2.VideoCapture frames -> _flush (as above)
                   -> cv2.VideoWriter <stem>_enhanced.mp4 (temp, os.replace),
                      preds/<stem>.json
          log the count of skipped inputs

    Args:
        model: a config path, a :class:`Config` or a model name of
            ``configs/*/metafile.yml`` (e.g. ``'squad-retinanet_r18_demo_underwater'``).
        weights: checkpoint path; None takes the metafile's ``Weights`` or, failing that,
            initialised weights (``model.init_weights()``, for tests and speed checks) with
            the config's class names.
        device: torch device, e.g. ``'cpu'``, ``'cuda:0'``.
        score_thr: boxes scoring below it are dropped from the predictions and drawings
            (mmdet's ``DetInferencer`` keeps them in ``preds/``; here both agree). The
            model's own ``test_cfg.score_thr`` filters before this one.
        cfg_options: config overrides, ``{'model.test_cfg.score_thr': 0.01}``.
    """

    def __init__(self, model, weights: Optional[str] = None, device: str = 'cpu',
                 score_thr: float = 0.3, cfg_options: Optional[dict] = None):
        from mmengine.logging import MMLogger

        from .inference import build_test_pipeline, init_model

        config, meta_weights = resolve_model(model)
        weights = weights if weights is not None else meta_weights
        with warnings.catch_warnings(record=True):
            # init_detector warns (filter 'once', which overrides an 'ignore') that it uses
            # COCO names without a checkpoint: recorded and dropped, fixed below
            self.model = init_model(config, weights, device=device, cfg_options=cfg_options)
        self.cfg = self.model.cfg
        self.logger = MMLogger.get_current_instance()
        if weights is None:
            level = self.logger.level
            self.logger.setLevel(logging.WARNING)  # init_weights logs every parameter
            try:
                self.model.init_weights()
            finally:
                self.logger.setLevel(level)
            self.model.eval()
        self.classes = self._class_names(weights is None)
        self.score_thr = score_thr
        self.pipeline = build_test_pipeline(self.cfg, from_array=True)
        load = self.cfg.test_dataloader.dataset.pipeline[0]
        self._decode = dict(flag=load.get('color_type', 'color'),
                            backend=load.get('imdecode_backend', 'cv2'))

    @staticmethod
    def list_models() -> List[str]:
        """Model names of ``configs/*/metafile.yml``."""
        return sorted(list_models())

    def _class_names(self, from_config: bool) -> Tuple[str, ...]:
        """The checkpoint's class names, or the config's when there is no checkpoint or its
        names do not match the detection head (mmdet falls back to COCO's then)."""
        meta = self.cfg.test_dataloader.dataset.get('metainfo') or {}
        cfg_classes = tuple(meta.get('classes', ()))
        classes = tuple((self.model.dataset_meta or {}).get('classes', ()))
        num = next((int(m.num_classes) for m in self.model.modules()
                    if isinstance(getattr(m, 'num_classes', None), int)), None)
        if cfg_classes and (from_config or (num is not None and len(classes) != num)):
            classes = cfg_classes
            self.model.dataset_meta = dict(self.model.dataset_meta or {}, classes=classes)
        return classes

    # ------------------------------------------------------------------ entry points
    def __call__(self, inputs, out_dir: Optional[str] = None, batch_size: int = 1,
                 show_progress: bool = True, write: bool = True,
                 return_vis: bool = False) -> dict:
        """Run on ``inputs``; write outputs under ``out_dir`` when given and ``write``.

        Args:
            inputs: an image path, a BGR uint8 array [H, W, 3], a folder (its images,
                sorted), a video (.mp4/.avi/.mov/.mkv, every frame), or a list of these.
            out_dir: writes ``enhanced/<stem>.png``, ``vis/<stem>.jpg`` (boxes, class names
                and scores on the enhanced image), ``preds/<stem>.json``; for a video
                ``<stem>_enhanced.mp4`` (annotated enhanced frames, input fps and size)
                and ``preds/<stem>.json`` (all frames). Arrays are named ``%08d`` by their
                position in the input list; a repeated stem gets ``_1``, ``_2``, ...
            batch_size: images (or video frames) per forward pass.
            return_vis: also return the annotated and the plain enhanced images.

        Returns:
            ``dict(predictions=[...], visualization=[...], skipped=[paths])``: one
            prediction per image or frame, ``labels`` [N] ints, ``scores`` [N] (4
            decimals), ``bboxes`` [N, 4] x1 y1 x2 y2 in input pixels (2 decimals), plus
            ``img_path`` (None for arrays) and ``img_index``, or ``video`` and ``frame``.
            ``visualization`` (and ``enhanced``) are BGR uint8 [H, W, 3] when
            ``return_vis``, else empty.
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        out_dir = out_dir if write else None
        items = self._expand(inputs)
        frames = {path: self._frame_count(path) for kind, path in items if kind == 'video'}
        total = sum(kind != 'video' for kind, _ in items) + sum(frames.values())
        progress = self._progress(total) if show_progress else None
        result = dict(predictions=[], visualization=[], skipped=[])
        if return_vis:
            result['enhanced'] = []
        names, batch = _Names(), []
        for index, (kind, source) in enumerate(items):
            if kind == 'video':
                self._flush(batch, result, out_dir, return_vis, progress=progress)
                stem = names(osp.splitext(osp.basename(source))[0])
                out_video = out_json = None
                if out_dir is not None:
                    out_video = osp.join(out_dir, f'{stem}_enhanced.mp4')
                    out_json = osp.join(out_dir, 'preds', f'{stem}.json')
                try:
                    video = self.run_video(source, out_video, out_json, batch_size,
                                           progress, return_vis)
                except UnreadableInput as err:
                    self._skip(result, source, err)
                    continue
                result['predictions'] += video['frames']
                for key in ('visualization', 'enhanced'):
                    if key in video:
                        result[key] += video[key]
                continue
            if kind == 'array':
                img, meta = source, dict(img_path=None, img_index=index)
                stem = f'{index:08d}'
            else:
                meta, stem = dict(img_path=source, img_index=index), osp.basename(source)
                stem = osp.splitext(stem)[0]
                try:
                    img = read_image(source, **self._decode)
                except UnreadableInput as err:
                    self._skip(result, source, err)
                    if progress is not None:
                        progress.update()
                    continue
            batch.append((img, meta, names(stem)))
            if len(batch) == batch_size:
                self._flush(batch, result, out_dir, return_vis, progress=progress)
        self._flush(batch, result, out_dir, return_vis, progress=progress)
        if progress is not None:
            progress.file.write('\n')
        if result['skipped']:
            self.logger.warning(f'MultiTaskInferencer: skipped {len(result["skipped"])} of '
                                f'{len(items)} inputs (unreadable): '
                                + ', '.join(result['skipped']))
        return result

    def run_video(self, path: str, out_video: Optional[str] = None,
                  out_json: Optional[str] = None, batch_size: int = 1, progress=False,
                  return_vis: bool = False) -> dict:
        """Every frame of a video; optionally write the annotated enhanced video and JSON.

        Args:
            out_video: annotated enhanced frames, at the input's fps (25 when unknown) and
                size, written to a temporary file of the same folder and renamed at the end.
            out_json: ``dict(video, fps, width, height, num_frames, frames=[...])``.
            progress: True for a progress bar over the frames, or a bar to update.

        Returns:
            ``dict(video, fps, width, height, num_frames, frames)``; ``frames``: one
            prediction per frame with ``video`` and ``frame`` (0-based index); plus
            ``visualization`` and ``enhanced`` lists with ``return_vis``.

        Raises:
            UnreadableInput: the video cannot be opened or has no frame.
        """
        import cv2

        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise UnreadableInput(f'{path}: cv2.VideoCapture cannot open the video')
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
        own_bar = progress is True
        if own_bar:
            progress = self._progress(max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0))
        progress = progress or None
        acc = dict(predictions=[], visualization=[], enhanced=[])
        writer = tmp = None
        height = width = None
        index = 0
        try:
            batch = []
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                if index == 0:
                    height, width = frame.shape[:2]
                    if out_video is not None:
                        folder = osp.dirname(osp.abspath(out_video))
                        os.makedirs(folder, exist_ok=True)
                        base, ext = osp.splitext(osp.basename(out_video))
                        tmp = osp.join(folder, f'.{base}.tmp-{uuid.uuid4().hex[:8]}{ext}')
                        writer = _video_writer(tmp, fps, (width, height))
                batch.append((frame, dict(video=path, frame=index), None))
                index += 1
                if len(batch) == batch_size:
                    self._flush(batch, acc, None, return_vis, writer, progress)
            self._flush(batch, acc, None, return_vis, writer, progress)
            if index == 0:
                raise UnreadableInput(f'{path}: no frame could be read')
            if writer is not None:
                writer.release()
                writer = None
                os.replace(tmp, out_video)
                tmp = None
        finally:
            cap.release()
            if own_bar:
                progress.file.write('\n')
            if writer is not None:
                writer.release()
            if tmp is not None and osp.exists(tmp):
                os.remove(tmp)
        result = dict(video=path, fps=fps, width=width, height=height, num_frames=index)
        if out_json is not None:
            doc = dict(result, frames=acc['predictions'])
            _atomic_write_bytes(out_json, json.dumps(doc).encode())
        result['frames'] = acc['predictions']
        if return_vis:
            result.update(visualization=acc['visualization'], enhanced=acc['enhanced'])
        return result

    # ------------------------------------------------------------------ steps
    def _expand(self, inputs) -> List[Tuple[str, object]]:
        """Flatten ``inputs`` into ``('image', path)``, ``('array', img)``, ``('video',
        path)`` items; a missing path or a bad array raises."""
        if isinstance(inputs, (list, tuple)):
            return [item for x in inputs for item in self._expand(x)]
        if isinstance(inputs, np.ndarray):
            if inputs.ndim != 3 or inputs.shape[2] != 3 or inputs.dtype != np.uint8:
                raise ValueError(f'an array input must be BGR uint8 [H, W, 3], got '
                                 f'{inputs.dtype} {list(inputs.shape)}')
            return [('array', inputs)]
        if not isinstance(inputs, (str, os.PathLike)):
            raise TypeError(f'unsupported input type {type(inputs).__name__}')
        path = os.fspath(inputs)
        if osp.isdir(path):
            files = list_images(path)
            if not files:
                self.logger.warning(f'MultiTaskInferencer: no images ({", ".join(IMAGE_EXTS)}) '
                                    f'in {path}')
            return [('image', f) for f in files]
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: no such file or folder')
        kind = 'video' if osp.splitext(path)[1].lower() in VIDEO_EXTS else 'image'
        return [(kind, path)]

    def predict(self, imgs: Sequence[np.ndarray]) -> list:
        """One forward pass over BGR uint8 images [H, W, 3] -> data samples."""
        import torch

        data = [self.pipeline(dict(img=img, img_id=i)) for i, img in enumerate(imgs)]
        batch = dict(inputs=[d['inputs'] for d in data],
                     data_samples=[d['data_samples'] for d in data])
        with torch.no_grad():
            return self.model.test_step(batch)

    def _unpack(self, sample, enhanced: bool = True) -> Tuple[dict, Optional[np.ndarray]]:
        """(boxes of ``score >= score_thr`` as numpy, enhanced BGR uint8 [H, W, 3] or None;
        None too when not ``enhanced``, which saves the conversion)."""
        from mtlunder.visualization import rgb01_to_bgr_uint8

        if 'pred_instances' in sample:
            p = sample.pred_instances
            scores = p.scores.detach().cpu().numpy()
            keep = scores >= self.score_thr
            pred = dict(labels=p.labels.detach().cpu().numpy()[keep].astype(np.int64),
                        scores=scores[keep],
                        bboxes=p.bboxes.detach().cpu().numpy()[keep].reshape(-1, 4))
        else:
            pred = dict(labels=np.zeros(0, np.int64), scores=np.zeros(0, np.float32),
                        bboxes=np.zeros((0, 4), np.float32))
        if enhanced and 'pred_clean' in sample:
            return pred, rgb01_to_bgr_uint8(sample.pred_clean.data)
        return pred, None

    def draw(self, img: np.ndarray, pred: dict) -> np.ndarray:
        """Boxes, class names and scores drawn on a copy of BGR uint8 ``img`` [H, W, 3];
        ``pred`` holds ``bboxes`` [N, 4] (pixels of ``img``), ``labels`` [N], ``scores``."""
        from mtlunder.visualization import draw_boxes

        return draw_boxes(img, np.asarray(pred['bboxes'], np.float32).reshape(-1, 4),
                          np.asarray(pred['labels'], np.int64), self.classes,
                          np.asarray(pred['scores'], np.float32))

    def _flush(self, batch: list, result: dict, out_dir: Optional[str], return_vis: bool,
               writer=None, progress=None) -> None:
        """Predict a batch of ``(img, meta, stem)``, append to ``result``'s
        ``predictions`` (and ``visualization``, ``enhanced``), write; empties ``batch``.

        ``writer``: a video's ``cv2.VideoWriter`` for the annotated frames; ``progress``: a
        bar updated once per image."""
        if not batch:
            return
        samples = self.predict([img for img, *_ in batch])
        draw = out_dir is not None or return_vis or writer is not None
        for (img, meta, stem), sample in zip(batch, samples):
            pred, enhanced = self._unpack(sample, enhanced=draw)
            record = dict(meta, labels=pred['labels'].tolist(),
                          scores=np.round(pred['scores'].astype(float), 4).tolist(),
                          bboxes=np.round(pred['bboxes'].astype(float), 2).tolist())
            result['predictions'].append(record)
            if draw:
                base = enhanced if enhanced is not None else img
                vis = self.draw(base, pred)
                if return_vis:
                    result['visualization'].append(vis)
                    result['enhanced'].append(base)
                if writer is not None:
                    writer.write(vis)
                if out_dir is not None:
                    if enhanced is not None:
                        _atomic_imwrite(osp.join(out_dir, 'enhanced', f'{stem}.png'), enhanced)
                    _atomic_imwrite(osp.join(out_dir, 'vis', f'{stem}.jpg'), vis)
                    doc = {k: record[k] for k in ('img_path', 'labels', 'scores', 'bboxes')}
                    _atomic_write_bytes(osp.join(out_dir, 'preds', f'{stem}.json'),
                                        json.dumps(doc).encode())
            if progress is not None:
                progress.update()
        batch.clear()

    def _skip(self, result: dict, path: str, err: Exception) -> None:
        """Log ``err`` (it names ``path``) and add ``path`` to ``result['skipped']``."""
        self.logger.warning(f'MultiTaskInferencer: skipped {err}')
        result['skipped'].append(path)

    @staticmethod
    def _frame_count(path: str) -> int:
        """Frames a video declares (``CAP_PROP_FRAME_COUNT``; 0 when unknown)."""
        import cv2

        cap = cv2.VideoCapture(path)
        try:
            return max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0) if cap.isOpened() else 0
        finally:
            cap.release()

    @staticmethod
    def _progress(total: int):
        from mmengine.utils import ProgressBar

        return ProgressBar(total, file=sys.stdout)
