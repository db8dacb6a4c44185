"""Converters from public datasets to the on-disk formats the mtlunder datasets read.

The scripts in ``data_tools/`` are thin command lines over these functions. Nothing here
imports torch; h5py / scipy / cv2 are imported where used.
"""
from .browse import browse_dataset
from .check import check_dataset
from .coco import read_coco_detection
from .dense import DENSE_LAYOUT, IGNORE_INDEX, DenseWriter
from .detection import (UNDERWATER_CLASSES, Box, ClassResolver, DetImage, parse_class_map,
                        read_names_file, to_coco)
from .io import DataError
from .output import atomic_dir
from .nyud import convert_nyud_mat, convert_nyud_mt, convert_nyud_png
from .pairs import PAIR_LAYOUTS, find_pair_folders, read_pairs
from .pascal import convert_pascal_context, convert_voc
from .report import Report
from .rgbd import find_rgbd_frames, read_depth_m, render_underwater
from .underwater_benchmark import (SourceSpec, build_underwater_benchmark, read_benchmark,
                                   read_detection_source, split_of)
from .voc import parse_voc_xml, read_voc_detection
from .voc_nyud_demo import build_voc_nyud_demo
from .yolo import read_yolo_detection, write_yolo

__all__ = [
    'Box', 'ClassResolver', 'DENSE_LAYOUT', 'DataError', 'DenseWriter', 'DetImage', 'IGNORE_INDEX',
    'PAIR_LAYOUTS', 'Report', 'SourceSpec', 'UNDERWATER_CLASSES', 'atomic_dir', 'browse_dataset',
    'build_underwater_benchmark', 'build_voc_nyud_demo', 'check_dataset', 'convert_nyud_mat',
    'convert_nyud_mt', 'convert_nyud_png', 'convert_pascal_context', 'convert_voc',
    'find_pair_folders', 'find_rgbd_frames', 'parse_class_map', 'parse_voc_xml', 'read_benchmark',
    'read_coco_detection', 'read_depth_m', 'read_detection_source', 'read_names_file',
    'read_pairs', 'read_voc_detection', 'read_yolo_detection', 'render_underwater', 'split_of',
    'to_coco', 'write_yolo'
]
