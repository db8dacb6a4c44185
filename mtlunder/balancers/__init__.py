"""Loss-based and gradient-based multi-task balancers (METHODS.md section 3)."""
from .aligned_mtl import AlignedMTL, aligned_weights
from .base import BaseBalancer, GradBalancer, LossBalancer
from .builder import build_balancer
from .cagrad import CAGrad
from .db_mtl import DBMTL
from .dwa import DWA
from .famo import FAMO
from .fixed import EW, RLW
from .generalized_mean import GLS, GeMTL, generalized_mean
from .graddrop import GradDrop
from .gradnorm import GradNorm
from .gradvac import GradVac
from .imtl import IMTL, IMTLG, IMTLL, imtl_g_weights
from .kpi_based import AMTL, DTP, load_potentials
from .mgda import MGDA, MGDAUB, min_norm_weights
from .moco import MoCo
from .nash_mtl import NashMTL, nash_weights
from .pbi import PBI
from .pcgrad import PCGrad
from .stch import STCH
from .torchjd_adapter import TORCHJD_BALANCERS, TorchJDWeighting
from .torchjd_aggregator import TORCHJD_AGGREGATORS, TorchJDAggregator
from .uncertainty import UW

__all__ = [
    'BaseBalancer', 'LossBalancer', 'GradBalancer', 'build_balancer', 'EW', 'RLW', 'UW', 'DWA',
    'GLS', 'GeMTL', 'DTP', 'AMTL', 'FAMO', 'GradNorm', 'MGDA', 'MGDAUB', 'PCGrad', 'CAGrad',
    'IMTLG', 'IMTLL', 'IMTL', 'AlignedMTL', 'NashMTL', 'DBMTL', 'GradVac', 'GradDrop', 'MoCo',
    'STCH', 'PBI', 'generalized_mean', 'min_norm_weights', 'imtl_g_weights', 'aligned_weights',
    'nash_weights', 'load_potentials', 'TorchJDWeighting', 'TORCHJD_BALANCERS',
    'TorchJDAggregator', 'TORCHJD_AGGREGATORS'
]
