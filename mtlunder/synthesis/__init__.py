"""Underwater image formation and the procedural det+enh benchmark generator."""
from .formation import JERLOV_TYPES, degrade, transmission, veiling_light
from .generator import DEFAULT_WATER_TYPES, generate_benchmark, render_sample
from .scene import Scene, render_scene
from .sprites import CLASSES

__all__ = [
    'JERLOV_TYPES', 'degrade', 'transmission', 'veiling_light', 'DEFAULT_WATER_TYPES',
    'generate_benchmark', 'render_sample', 'Scene', 'render_scene', 'CLASSES'
]
