"""ppcrnn: a PaddleOCR-compatible CRNN (MobileNetV3 + BiLSTM + CTC) text recognizer."""
__version__ = "0.1.0"

from .utils.mkl_dispatch import use_avx2_mkl_on_amd  # noqa: E402

use_avx2_mkl_on_amd()  # before anything runs a matrix product: MKL reads it once

from . import data, losses, metrics, postprocess, training  # noqa: F401,E402  (registration side effects)
from .model_zoo import pretrained, pretrained_dir, pretrained_names  # noqa: E402
from .modeling import build_model  # noqa: E402

__all__ = ["build_model", "pretrained", "pretrained_dir", "pretrained_names", "__version__"]
