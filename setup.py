"""Build hook for the optional native decoder ``chronik._accel``.

Metadata and package discovery live in pyproject.toml; setuptools merges this extension in.
``optional=True``: without a working C compiler the build skips it and Chronik uses its
pure-Python codecs.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "chronik._accel",
            ["server/chronik/_accel.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
