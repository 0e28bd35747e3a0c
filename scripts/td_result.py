"""td_result.py - what the result scripts share (export_network.py,
plot_layers.py, plot_truncation.py): one-line input errors, HDF5 text
attributes as str, and opening a file with a message that says why not."""
import os

import numpy as np


class InputError(Exception):
    """A problem with the command's files: one line, exit 2."""


def text(v):
    """An HDF5 attribute (bytes, str, 0-d array) as str."""
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        return text(v[()])
    return str(v)


def open_h5(path):
    """The file for reading, or InputError naming it and the reason."""
    import h5py
    if not os.path.exists(path):
        raise InputError(f"{path}: cannot open: No such file or directory")
    try:
        return h5py.File(path, "r")
    except (OSError, ValueError) as e:
        msg = "not an HDF5 file" if "signature" in str(e) else str(e).splitlines()[0]
        raise InputError(f"{path}: cannot open: {msg}") from None
