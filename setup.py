"""mtlunder: multi-task learning for underwater vision on MMDetection.

The pinned OpenMMLab stack (mmcv built from source with its ops) is installed by
``make setup``; ``install_requires`` lists the runtime requirements without mmcv, as
MMDetection does (mmcv needs ``--no-build-isolation`` after torch, see README).
"""
from pathlib import Path

from setuptools import find_packages, setup


def parse_requirements(name: str) -> list:
    lines = (Path(__file__).parent / 'requirements' / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith('#')]


setup(
    name='mtlunder',
    version='0.1.0',
    description='Multi-task learning for underwater vision (detection + enhancement) '
                'on MMEngine / MMDetection / MMSegmentation',
    long_description=(Path(__file__).parent / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mtlunder', 'mtlunder.*']),
    python_requires='>=3.10',
    install_requires=parse_requirements('runtime.txt'),
    extras_require=dict(tests=parse_requirements('tests.txt'),
                        build=parse_requirements('build.txt')),
    license='Apache-2.0',
)
