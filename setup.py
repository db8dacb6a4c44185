from setuptools import find_packages, setup

setup(
    name='mtlunder',
    version='0.1.0',
    description='Multi-task learning for underwater vision on MMDetection',
    packages=find_packages(include=['mtlunder', 'mtlunder.*']),
    python_requires='>=3.10',
    install_requires=[],  # pinned stack in requirements/, installed by `make setup`
)
