"""Deployment: export to PaddleX / Paddle Inference / ONNX, and a recognizer over exported models."""
from .export import export_model, save_inference_model
from .inference_config import InferenceConfig
from .onnx import export_onnx
from .predictor import Recognizer

__all__ = ["export_model", "save_inference_model", "export_onnx", "InferenceConfig", "Recognizer"]
