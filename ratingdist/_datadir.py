"""The local data folder named by ``RATINGDIST_DATA_DIR``, made absolute once per process.

``import ratingdist`` runs this (it needs only ``os`` and ``pathlib``), so that a relative path
is resolved against the working directory of the process that read it, and child processes and
notebook kernels started later, in other folders, find the same folder.
"""

import os
from pathlib import Path

#: Environment variable naming a folder that holds local copies of the dataset files.
DATA_DIR_ENV = "RATINGDIST_DATA_DIR"


def resolve_data_dir() -> None:
    """Make a relative ``RATINGDIST_DATA_DIR`` absolute, in this process' environment."""
    value = os.environ.get(DATA_DIR_ENV)
    if value and not Path(value).expanduser().is_absolute():
        os.environ[DATA_DIR_ENV] = str(Path(value).expanduser().resolve())
