"""Registries of the ``mtlunder`` scope.

Each registry is a child of the matching MMDetection registry (itself a child of
MMEngine's root), so configs with ``default_scope = 'mtlunder'`` can name mtlunder,
mmdet and mmengine components without a prefix, and MMSegmentation components with
``mmseg.`` or ``_scope_='mmseg'``. ``BALANCERS`` is new: loss and gradient balancers.
"""
from mmdet.registry import DATA_SAMPLERS as MMDET_DATA_SAMPLERS
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import EVALUATOR as MMDET_EVALUATOR
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODEL_WRAPPERS as MMDET_MODEL_WRAPPERS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMDET_OPTIM_WRAPPER_CONSTRUCTORS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import OPTIMIZERS as MMDET_OPTIMIZERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import RUNNERS as MMDET_RUNNERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISBACKENDS as MMDET_VISBACKENDS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMDET_RUNNERS, locations=['mtlunder.engine'])
LOOPS = Registry('loop', parent=MMDET_LOOPS, locations=['mtlunder.engine'])
HOOKS = Registry('hook', parent=MMDET_HOOKS, locations=['mtlunder.engine'])
DATASETS = Registry('dataset', parent=MMDET_DATASETS, locations=['mtlunder.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMDET_DATA_SAMPLERS,
                         locations=['mtlunder.datasets'])
TRANSFORMS = Registry('transform', parent=MMDET_TRANSFORMS,
                      locations=['mtlunder.datasets.transforms'])
MODELS = Registry('model', parent=MMDET_MODELS, locations=['mtlunder.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMDET_MODEL_WRAPPERS,
                          locations=['mtlunder.engine'])
OPTIMIZERS = Registry('optimizer', parent=MMDET_OPTIMIZERS, locations=['mtlunder.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMDET_OPTIM_WRAPPERS,
                          locations=['mtlunder.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry('optimizer wrapper constructor',
                                      parent=MMDET_OPTIM_WRAPPER_CONSTRUCTORS,
                                      locations=['mtlunder.engine'])
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMDET_PARAM_SCHEDULERS,
                            locations=['mtlunder.engine'])
METRICS = Registry('metric', parent=MMDET_METRICS, locations=['mtlunder.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMDET_EVALUATOR, locations=['mtlunder.evaluation'])
TASK_UTILS = Registry('task util', parent=MMDET_TASK_UTILS, locations=['mtlunder.models'])
VISUALIZERS = Registry('visualizer', parent=MMDET_VISUALIZERS,
                       locations=['mtlunder.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMDET_VISBACKENDS,
                       locations=['mtlunder.visualization'])
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS,
                               locations=['mtlunder.models'])
BALANCERS = Registry('balancer', scope='mtlunder', locations=['mtlunder.balancers'])
#: functions a lower layer calls by name: the models' ``train_step`` runs the engine's
#: ``multitask_train_step`` without importing ``mtlunder.engine``
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['mtlunder.engine'])
