"""MultiTaskInferencer: images, folders, arrays and videos in; every task's outputs out.

mmdet's ``DetInferencer`` structure on mmengine's ``BaseInferencer`` (``preprocess`` ->
``forward`` -> ``visualize`` -> ``postprocess``; prediction keys ``labels``, ``scores``,
``bboxes``; output folders ``vis/`` and ``preds/``), for every task of the task table: the
files written for a task follow its label kind (:data:`mtlunder.structures.TASK_SPECS`).
"""
import contextlib
import glob
import json
import logging
import os
import os.path as osp
import sys
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
from mmengine.infer import BaseInferencer

from mtlunder.fileio import (atomic_imwrite, atomic_path, atomic_write_bytes,
                             atomic_write_palette_png)
from mtlunder.structures import TASK_SPECS

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv')
#: ``configs/`` of the source tree (mtlunder is installed in editable mode).
CONFIG_ROOT = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
#: depth PNGs hold uint16 millimetres: metres * DEPTH_PNG_SCALE, 0 = no value
DEPTH_PNG_SCALE = 1000.0


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
class MultiTaskInferencer(BaseInferencer):
    """Run a multi-task model on images, folders, arrays and videos; write every task.

    Call graph (mmdet's ``DetInferencer``)::

        __init__  resolve_model (path | Config | metafile name | built model)
                  -> _init_model (init_model; init_weights without weights)
                  -> _init_pipeline (loading transform found by type, label loaders
                     dropped) -> _init_visualizer (MultiTaskLocalVisualizer of the config)
        __call__(inputs)
          _inputs_to_list: path | folder | BGR array | video | list -> items
          images: read_image (corrupt -> named warning, 'skipped', counted) ->
          videos: run_video (frames of cv2.VideoCapture)
            -> _run: preprocess (batches of batch_size) -> forward (model.test_step)
                     -> visualize (visualizer.add_datasample: every task's panel side by
                        side, vis/<stem>.jpg) -> postprocess (pred2dict + task files +
                        preds/<stem>.json); one progress bar over images and frames

    Files under ``out_dir`` per image ``<stem>``, by the label kind of each task the model
    predicts (folder = task name): ``boxes``: in ``preds/<stem>.json`` (mmdet's
    ``labels``, ``scores``, ``bboxes``); ``image``: ``<task>/<stem>.png``; ``label_map``
    class maps: ``<task>/<stem>.png`` (palette PNG of the class indices) and
    ``<task>/<stem>_overlay.jpg``; two-class probability maps (edges, saliency):
    ``<task>/<stem>.png`` grey, 255 * probability; ``continuous_map`` (depth):
    ``<task>/<stem>.png`` uint16 **millimetres** (0 = none) and ``<task>/<stem>_color.png``
    (viridis); ``unit_vector_map`` (normals): ``<task>/<stem>.png`` RGB = 255 (n + 1) / 2.
    ``preds/<stem>.json`` lists every file written for the image (``files``).

    Args:
        model: a config path, a :class:`Config`, a model name of
            ``configs/*/metafile.yml`` or a built model (with ``model.cfg``).
        weights: checkpoint path; None takes the metafile's ``Weights`` or, failing that,
            initialised weights (``model.init_weights()``, for tests and speed checks) with
            the config's class names.
        device: torch device, e.g. ``'cpu'``, ``'cuda:0'``.
        score_thr: default ``pred_score_thr`` of :meth:`__call__`.
        cfg_options: config overrides, ``{'model.test_cfg.score_thr': 0.01}``.
        show_progress: progress bar over images and video frames.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'return_vis', 'show', 'wait_time', 'draw_pred', 'pred_score_thr',
                             'img_out_dir', 'no_save_vis'}
    postprocess_kwargs: set = {'print_result', 'pred_out_dir', 'return_datasamples',
                               'no_save_pred'}

    def __init__(self, model, weights: Optional[str] = None, device: str = 'cpu',
                 score_thr: float = 0.3, cfg_options: Optional[dict] = None,
                 show_progress: bool = True):
        import copy

        import torch
        from mmengine.config import Config
        from mmengine.logging import MMLogger

        from mtlunder.utils import register_all_modules

        register_all_modules()
        self._built = model if isinstance(model, torch.nn.Module) else None
        if self._built is not None:
            cfg = copy.deepcopy(model.cfg)
        else:
            config, meta_weights = resolve_model(model)
            weights = weights if weights is not None else meta_weights
            cfg = (copy.deepcopy(config) if isinstance(config, Config)
                   else Config.fromfile(config))
            if cfg_options is not None:
                cfg.merge_from_dict(cfg_options)
        self.score_thr = score_thr
        self.logger = MMLogger.get_current_instance()
        super().__init__(model=cfg, weights=weights, device=device, scope='mtlunder',
                         show_progress=show_progress)
        self.classes = tuple(self.model.dataset_meta.get('classes', ()))

    @staticmethod
    def list_models() -> List[str]:
        """Model names of ``configs/*/metafile.yml``."""
        return sorted(list_models())

    # ------------------------------------------------------------------ building
    def _init_model(self, cfg, weights: Optional[str], device: str = 'cpu'):
        """:func:`init_model` (safe checkpoint loader), initialised weights without a
        checkpoint; ``dataset_meta`` completed from the config (:meth:`_dataset_meta`)."""
        from .inference import init_model

        if self._built is not None:
            return self._built
        model = init_model(cfg, weights, device=device)
        if weights is None:
            level = self.logger.level
            self.logger.setLevel(logging.WARNING)  # init_weights logs every parameter
            try:
                model.init_weights()
            finally:
                self.logger.setLevel(level)
            model.eval()
        model.dataset_meta = self._dataset_meta(model, cfg, weights is None)
        return model

    @staticmethod
    def _dataset_meta(model, cfg, from_config: bool) -> dict:
        """The checkpoint's dataset meta over the config's (its dataset class's
        ``METAINFO`` and ``metainfo``); the config's class names when there is no checkpoint
        or its names do not match the detection head."""
        from mtlunder.registry import DATASETS

        dataset = cfg.test_dataloader.dataset
        meta = dict(getattr(DATASETS.get(dataset.type), 'METAINFO', None) or {})
        meta.update(dataset.get('metainfo') or {})
        ckpt = dict(model.dataset_meta or {})
        num = next((int(m.num_classes) for m in model.modules()
                    if isinstance(getattr(m, 'num_classes', None), int)), None)
        if meta.get('classes') and (from_config or (
                num is not None and len(ckpt.get('classes', ())) != num)):
            ckpt.pop('classes', None)
        return dict(meta, **ckpt)

    def _init_pipeline(self, cfg):
        """The config's test pipeline for BGR arrays: the image loading transform (found
        by type: ``LoadImageFromFile`` or a subclass) reads ``img``; label loaders go."""
        import copy

        from mmcv.transforms import Compose, LoadImageFromFile
        from mmdet.datasets.transforms import LoadAnnotations

        from mtlunder.datasets.transforms.loading import (LoadDenseAnnotations,
                                                          LoadReferenceImage)
        from mtlunder.registry import TRANSFORMS

        labels = (LoadAnnotations, LoadDenseAnnotations, LoadReferenceImage)
        steps, load = [], None
        for step in copy.deepcopy(cfg.test_dataloader.dataset.pipeline):
            cls = TRANSFORMS.get(step['type'])
            if cls is None:
                raise KeyError(f'test pipeline transform {step["type"]!r} is not registered')
            if issubclass(cls, labels):
                continue
            if issubclass(cls, LoadImageFromFile):
                load = step
                step = dict(step, type='mmdet.LoadImageFromNDArray')
            steps.append(step)
        if load is None:
            raise ValueError(f'no image loading transform (LoadImageFromFile or a subclass) '
                             f'in the test pipeline of {cfg.filename}')
        self._decode = dict(flag=load.get('color_type', 'color'),
                            backend=load.get('imdecode_backend', 'cv2'))
        return Compose(steps)

    def _init_collate(self, cfg):
        """mmengine's ``pseudo_collate`` (lists of inputs and samples for ``test_step``)."""
        from mmengine.dataset import pseudo_collate

        return pseudo_collate

    def _init_visualizer(self, cfg):
        from mmengine.registry import init_default_scope

        init_default_scope('mtlunder')
        visualizer = super()._init_visualizer(cfg)
        if visualizer is not None:
            visualizer.dataset_meta = self.model.dataset_meta
        return visualizer

    # ------------------------------------------------------------------ entry points
    def __call__(self, inputs, batch_size: int = 1, out_dir: str = '',
                 pred_score_thr: Optional[float] = None, return_datasamples: bool = False,
                 return_vis: bool = False, no_save_vis: bool = False,
                 no_save_pred: bool = False, write: bool = True,
                 show_progress: Optional[bool] = None, **kwargs) -> dict:
        """Run on ``inputs``; write outputs under ``out_dir`` when given.

        Args:
            inputs: an image path, a BGR uint8 array [H, W, 3], a folder (its images,
                sorted), a video (.mp4/.avi/.mov/.mkv, every frame), or a list of these.
            out_dir: see the class doc; a video gives ``<stem>_vis.mp4`` (every task's
                panel side by side, input fps) and ``preds/<stem>.json`` (all frames).
                Arrays are named ``%08d`` by their position in the input list; a repeated
                stem gets ``_1``, ``_2``, ...
            pred_score_thr: boxes below it are left out of predictions and drawings
                (default: the constructor's ``score_thr``).
            return_datasamples: predictions as data samples (nothing is filtered).
            no_save_vis / no_save_pred: skip ``vis/`` (and the video) / the prediction
                files; ``write=False`` skips both.

        Returns:
            ``dict(predictions=[...], visualization=[...], skipped=[paths])``: one
            prediction per image or frame (``labels`` [N], ``scores`` [N], ``bboxes``
            [N, 4] x1 y1 x2 y2 input pixels, ``img_path`` (None for arrays) and
            ``img_index`` or ``video`` and ``frame``, ``files`` written); with
            ``return_vis`` the pictures (RGB uint8) and ``enhanced`` (BGR uint8 images of
            the ``image`` task, when predicted).
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if not write:
            no_save_vis = no_save_pred = True
        options = dict(return_vis=return_vis, no_save_vis=no_save_vis,
                       no_save_pred=no_save_pred, return_datasamples=return_datasamples,
                       pred_score_thr=self.score_thr if pred_score_thr is None
                       else pred_score_thr, **kwargs)
        items = self._inputs_to_list(inputs)
        frames = {path: self._frame_count(path) for kind, path in items if kind == 'video'}
        total = sum(kind != 'video' for kind, _ in items) + sum(frames.values())
        show = self.show_progress if show_progress is None else show_progress
        progress = self._progress(total) if show else None
        result = dict(predictions=[], visualization=[], skipped=[])
        if return_vis:
            result['enhanced'] = []
        names = _Names()
        images = []
        for index, (kind, source) in enumerate(items):
            if kind == 'video':
                self._collect(self._run(self._read(images, result, progress), batch_size,
                                        out_dir, progress, **options), result)
                images = []
                stem = names(osp.splitext(osp.basename(source))[0])
                try:
                    video = self.run_video(
                        source, osp.join(out_dir, f'{stem}_vis.mp4')
                        if out_dir and not no_save_vis else None,
                        osp.join(out_dir, 'preds', f'{stem}.json')
                        if out_dir and not no_save_pred else None,
                        batch_size, progress or False, **options)
                except UnreadableInput as err:
                    self._skip(result, source, err)
                    continue
                result['predictions'] += video['frames']
                for key in ('visualization', 'enhanced'):
                    if key in result:
                        result[key] += video.get(key, [])
                continue
            if kind == 'array':
                images.append(dict(img=source, img_path=None, img_index=index,
                                   stem=names(f'{index:08d}')))
            else:
                images.append(dict(path=source, img_path=source, img_index=index,
                                   stem=names(osp.splitext(osp.basename(source))[0])))
        self._collect(self._run(self._read(images, result, progress), batch_size, out_dir,
                                progress, **options), result)
        if progress is not None:
            progress.file.write('\n')
        if result['skipped']:
            self.logger.warning(f'MultiTaskInferencer: skipped {len(result["skipped"])} of '
                                f'{len(items)} inputs (unreadable): '
                                + ', '.join(result['skipped']))
        return result

    def run_video(self, path: str, out_video: Optional[str] = None,
                  out_json: Optional[str] = None, batch_size: int = 1, progress=False,
                  return_vis: bool = False, pred_score_thr: Optional[float] = None,
                  **options) -> dict:
        """Every frame of a video; optionally write the annotated video and the JSON.

        Args:
            out_video: every task's panel side by side per frame (the visualizer's
                picture), at the input's fps (25 when unknown); written to a temporary
                file of the same folder and renamed at the end.
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
        options = dict(options, return_datasamples=options.get('return_datasamples', False),
                       pred_score_thr=self.score_thr if pred_score_thr is None
                       else pred_score_thr, no_save_vis=True, no_save_pred=True)
        acc = dict(predictions=[], visualization=[], enhanced=[], json=[])
        shape, writer = [], None

        def frames() -> Iterator[dict]:
            index = 0
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                shape[:] = frame.shape[:2]
                yield dict(img=frame, video=path, frame=index, stem=None)
                index += 1

        try:
            # the video goes to a temporary file (atomic_path) that replaces out_video when
            # every frame is written; its writer is released first (callbacks run last in,
            # first out), on success and on error alike
            with contextlib.ExitStack() as video:
                draw = out_video is not None or return_vis
                for pred, vis, enhanced in self._run(frames(), batch_size, '', progress,
                                                     **dict(options, return_vis=draw)):
                    acc['predictions'].append(pred)
                    if out_json is not None:
                        acc['json'].append(pred if isinstance(pred, dict) else self.pred2dict(
                            pred, pred_score_thr=options['pred_score_thr']))
                    if out_video is not None:
                        if writer is None:
                            writer = _video_writer(video.enter_context(atomic_path(out_video)),
                                                   fps, (vis.shape[1], vis.shape[0]))
                            video.callback(writer.release)
                        writer.write(np.ascontiguousarray(vis[..., ::-1]))
                    if return_vis:
                        acc['visualization'].append(vis)
                        if enhanced is not None:
                            acc['enhanced'].append(enhanced)
                if not acc['predictions']:
                    raise UnreadableInput(f'{path}: no frame could be read')
        finally:
            cap.release()
            if own_bar:
                progress.file.write('\n')
        height, width = shape
        result = dict(video=path, fps=fps, width=width, height=height,
                      num_frames=len(acc['predictions']))
        if out_json is not None:
            doc = dict(result, frames=acc['json'])
            atomic_write_bytes(out_json, json.dumps(doc).encode())
        result['frames'] = acc['predictions']
        if return_vis:
            result.update(visualization=acc['visualization'], enhanced=acc['enhanced'])
        return result

    # ------------------------------------------------------------------ steps
    def _inputs_to_list(self, inputs) -> List[Tuple[str, object]]:
        """Flatten ``inputs`` into ``('image', path)``, ``('array', img)``, ``('video',
        path)`` items; a missing path or a bad array raises."""
        if isinstance(inputs, (list, tuple)):
            return [item for x in inputs for item in self._inputs_to_list(x)]
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

    def _read(self, records: List[dict], result: dict, progress) -> Iterator[dict]:
        """Decode the image files of ``records`` lazily; an unreadable one is named in a
        warning, added to ``result['skipped']`` and counted on the progress bar."""
        for record in records:
            if 'path' in record:
                try:
                    record = dict(record, img=read_image(record.pop('path'), **self._decode))
                except UnreadableInput as err:
                    self._skip(result, record['img_path'], err)
                    if progress is not None:
                        progress.update()
                    continue
            yield record

    def preprocess(self, inputs: Iterable[dict], batch_size: int = 1, **kwargs):
        """Batches of ``batch_size`` records (``img``: BGR uint8 [H, W, 3] plus naming
        keys) -> ``(records, collated test-pipeline data)``."""
        for chunk in self._get_chunk_data(inputs, batch_size):
            data = [self.pipeline(dict(img=r['img'], img_id=i)) for i, r in enumerate(chunk)]
            yield chunk, self.collate_fn(data)

    def _run(self, records: Iterable[dict], batch_size: int, out_dir: str, progress,
             pred_score_thr: float, return_vis: bool, no_save_vis: bool, no_save_pred: bool,
             return_datasamples: bool, **kwargs) -> Iterator[tuple]:
        """preprocess -> forward -> visualize -> postprocess over ``records``; yields
        ``(prediction, picture or None, enhanced BGR or None)`` per record."""
        from mtlunder.visualization import rgb01_to_bgr_uint8

        image_fields = [s.pred_field for s in TASK_SPECS.values() if s.kind == 'image']
        for chunk, data in self.preprocess(records, batch_size):
            preds = self.forward(data)
            for record, sample in zip(chunk, preds):
                sample.set_metainfo({k: v for k, v in record.items() if k != 'img'})
            vis = self.visualize([r['img'] for r in chunk], preds, return_vis=return_vis,
                                 pred_score_thr=pred_score_thr, img_out_dir=out_dir,
                                 no_save_vis=no_save_vis, **kwargs)
            out = self.postprocess(preds, vis, return_datasamples=return_datasamples,
                                   no_save_pred=no_save_pred, pred_out_dir=out_dir,
                                   pred_score_thr=pred_score_thr, images=[r['img'] for r in chunk],
                                   vis_written=bool(out_dir) and not no_save_vis)
            for i, (pred, sample) in enumerate(zip(out['predictions'], preds)):
                enhanced = None
                if return_vis:
                    enhanced = next((rgb01_to_bgr_uint8(sample.get(f).data)
                                     for f in image_fields if f in sample), None)
                yield pred, (vis[i] if vis else None), enhanced
                if progress is not None:
                    progress.update()

    @staticmethod
    def _collect(outputs: Iterable[tuple], result: dict) -> None:
        for pred, vis, enhanced in outputs:
            result['predictions'].append(pred)
            if vis is not None:
                result['visualization'].append(vis)
            if enhanced is not None:
                result['enhanced'].append(enhanced)

    def visualize(self, inputs: List[np.ndarray], preds: list, return_vis: bool = False,
                  show: bool = False, wait_time: float = 0, draw_pred: bool = True,
                  pred_score_thr: float = 0.3, img_out_dir: str = '',
                  no_save_vis: bool = False, **kwargs) -> Optional[List[np.ndarray]]:
        """Every task's prediction panel side by side (the config's visualizer) for BGR
        ``inputs``; ``vis/<stem>.jpg`` under ``img_out_dir``. Returns RGB pictures or
        None when nothing is shown, saved or returned."""
        if no_save_vis:
            img_out_dir = ''
        if not show and not img_out_dir and not return_vis:
            return None
        if self.visualizer is None:
            raise ValueError(f'drawing needs a `visualizer` in {self.cfg.filename}')
        results = []
        for img, pred in zip(inputs, preds):
            stem = pred.metainfo.get('stem')
            out_file = osp.join(img_out_dir, 'vis', f'{stem}.jpg') if img_out_dir else None
            self.visualizer.add_datasample(stem or 'frame', img[..., ::-1], pred, show=show,
                                           wait_time=wait_time, draw_gt=False,
                                           draw_pred=draw_pred,
                                           pred_score_thr=pred_score_thr, out_file=out_file)
            results.append(self.visualizer.get_image())
        return results

    def postprocess(self, preds: list, visualization: Optional[List[np.ndarray]] = None,
                    return_datasamples: bool = False, print_result: bool = False,
                    no_save_pred: bool = False, pred_out_dir: str = '',
                    pred_score_thr: float = 0.3, images: Optional[List[np.ndarray]] = None,
                    vis_written: bool = False, **kwargs) -> Dict:
        """Predictions as dicts (:meth:`pred2dict`) or data samples; with ``pred_out_dir``
        every task's files and ``preds/<stem>.json`` are written (not for video frames)."""
        if no_save_pred:
            pred_out_dir = ''
        images = images or [None] * len(preds)
        if return_datasamples:
            results = preds
            for sample, img in zip(preds, images):
                if pred_out_dir and sample.metainfo.get('stem'):
                    self.pred2dict(sample, pred_out_dir, pred_score_thr, img, vis_written)
        else:
            results = [self.pred2dict(sample, pred_out_dir, pred_score_thr, img, vis_written)
                       for sample, img in zip(preds, images)]
        if print_result:
            print(results)
        return dict(predictions=results, visualization=visualization)

    def pred2dict(self, sample, pred_out_dir: str = '', pred_score_thr: float = 0.3,
                  image: Optional[np.ndarray] = None, vis_written: bool = False) -> dict:
        """JSON-ready prediction of one sample: where it came from (``img_path`` and
        ``img_index``, or ``video`` and ``frame``), boxes of ``score >= pred_score_thr``
        (``labels``, ``scores`` 4 decimals, ``bboxes`` 2 decimals, input pixels) for a box
        task, and ``files``: the paths (relative to ``pred_out_dir``) written for it.
        ``image``: the BGR input, for class-map overlays."""
        meta = sample.metainfo
        record = {k: meta[k] for k in ('img_path', 'img_index', 'video', 'frame')
                  if k in meta}
        for spec in TASK_SPECS.values():
            if spec.kind == 'boxes' and spec.pred_field in sample:
                p = sample.get(spec.pred_field)
                scores = p.scores.detach().cpu().numpy()
                keep = scores >= pred_score_thr
                record.update(
                    labels=p.labels.detach().cpu().numpy()[keep].astype(int).tolist(),
                    scores=np.round(scores[keep].astype(float), 4).tolist(),
                    bboxes=np.round(p.bboxes.detach().cpu().numpy()[keep].reshape(-1, 4)
                                    .astype(float), 2).tolist())
        stem = meta.get('stem')
        if not pred_out_dir or stem is None:
            return record
        files = {}
        if vis_written:
            files['vis'] = [osp.join('vis', f'{stem}.jpg')]
        for spec in TASK_SPECS.values():
            if spec.kind != 'boxes' and spec.pred_field in sample:
                files[spec.name] = write_task_files(spec, sample, pred_out_dir, stem, image)
        record['files'] = dict(files, preds=[osp.join('preds', f'{stem}.json')])
        atomic_write_bytes(osp.join(pred_out_dir, 'preds', f'{stem}.json'),
                           json.dumps(record).encode())
        return record

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


def write_task_files(spec, sample, out_dir: str, stem: str,
                     image: Optional[np.ndarray] = None) -> List[str]:
    """Write the prediction of one dense task (``spec``, a :data:`TASK_SPECS` entry) of
    ``sample`` under ``out_dir/<task>/`` as its label kind asks (class doc of
    :class:`MultiTaskInferencer`); the paths written, relative to ``out_dir``.

    ``image``: the BGR uint8 input, for the colour overlay of a class map.
    """
    from mtlunder.visualization import (class_overlay, class_palette, dense_map_picture,
                                        is_probability_map, map_array, rgb01_to_bgr_uint8)

    data = sample.get(spec.pred_field).data
    base = osp.join(spec.name, stem)
    written = {}
    if spec.kind == 'image':
        written[f'{base}.png'] = rgb01_to_bgr_uint8(data)
    elif spec.kind == 'continuous_map':
        arr = map_array(data, spec).astype(np.float64)
        mm = np.clip(np.round(arr * DEPTH_PNG_SCALE), 0, np.iinfo(np.uint16).max)
        written[f'{base}.png'] = mm.astype(np.uint16)
        written[f'{base}_color.png'] = dense_map_picture(arr, spec.kind)
    elif spec.kind == 'unit_vector_map':
        written[f'{base}.png'] = dense_map_picture(map_array(data, spec), spec.kind)
    elif spec.kind == 'label_map' and is_probability_map(spec, sample):
        prob = map_array(data, spec)
        written[f'{base}.png'] = np.clip(np.round(prob * 255), 0, 255).astype(np.uint8)
    elif spec.kind == 'label_map':
        label = map_array(data, spec)
        atomic_write_palette_png(osp.join(out_dir, f'{base}.png'), label.astype(np.uint8),
                                 class_palette(spec.ignore_value))
        files = [f'{base}.png']
        if image is not None:
            overlay = class_overlay(np.ascontiguousarray(image[..., ::-1]), label,
                                    spec.ignore_value)
            atomic_imwrite(osp.join(out_dir, f'{base}_overlay.jpg'),
                           np.ascontiguousarray(overlay[..., ::-1]))
            files.append(f'{base}_overlay.jpg')
        return files
    else:
        raise ValueError(f'no output files for label kind {spec.kind!r} of task {spec.name}')
    for rel, img in written.items():
        atomic_imwrite(osp.join(out_dir, rel), img)
    return list(written)
