from setuptools import find_packages, setup


def get_version() -> str:
    scope: dict = {}
    with open('debiascls/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='debiascls',
    version=get_version(),
    description='Debiased image and video classification on mmengine',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    python_requires='>=3.10',
    install_requires=[
        'torch>=2.0',
        'torchvision',
        # 0.10.7 is the last release; debiascls patches its checkpoint loading
        # for torch >= 2.6 (debiascls/engine/checkpoint.py).
        'mmengine==0.10.7',
        'numpy',
        'opencv-python',
        # Mini-batch k-means of the ImageNet texture clusters (ReBias used
        # scikit-learn's MiniBatchKMeans too); a maintained implementation,
        # and t-SNE for the feature plots later.
        'scikit-learn',
        'tensorboard',
    ],
    extras_require={'tests': ['pytest', 'pytest-xdist']},
    license='Apache License 2.0',
)
