"""Model training, calibration, evaluation, ONNX export and the model registry (issue 5).

Importing this package (or ``registry``) never imports TensorFlow: the serving pipeline and the
admin use the registry, only training/export/evaluation modules pull in the heavy libraries.
"""

import os

# Quiet TensorFlow's C++ INFO/WARNING lines (set before any module here imports it).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
