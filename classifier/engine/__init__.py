"""The inference engine: ``core`` is the Django-free model runner, ``runtime`` binds it to the active version."""

from classifier.engine.core import ImageFailure, ImagePrediction, InferenceEngine

__all__ = ["ImageFailure", "ImagePrediction", "InferenceEngine"]
