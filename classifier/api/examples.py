"""Example bodies for the OpenAPI documentation (checked against the schema by tests/api/test_schema_docs.py)."""

from __future__ import annotations

MODEL_VERSION = {
    "id": 3,
    "name": "efficientnet_lite0-20261204",
    "architecture": "efficientnet_lite0",
    "timm_name": "tf_efficientnet_lite0",
    "status": "active",
    "temperature": 1.31,
    "review_threshold": 0.62,
    "macro_f1": 0.51,
    "training_run": 5,
    "created_at": "2026-12-04T19:38:00Z",
    "activated_at": "2026-12-04T19:40:00Z",
}

MODEL_VERSION_DETAIL = {
    **MODEL_VERSION,
    "classes": ["Abstract_Expressionism", "Action_painting", "…"],
    "preprocessing": {
        "input_size": [3, 224, 224],
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "interpolation": "bicubic",
        "crop_pct": 0.877,
    },
    "metrics": {"accuracy": 0.58, "macro_f1": 0.51, "macro_f1_ci95": [0.45, 0.57], "ece": 0.04},
    "training_config": {"architecture": "efficientnet_lite0", "freeze_backbone": True, "epochs": 60},
    "dataset_fingerprint": "9b1f0c…",
    "checkpoint_sha256": "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
    "refused_reason": "",
}

TRAINING_RUN = {
    "id": 5,
    "status": "running",
    "progress": 0.35,
    "current_step": "efficientnet_lite0: epoch 21/60",
    "started_by": "mia",
    "created_at": "2026-12-04T19:20:00Z",
    "started_at": "2026-12-04T19:20:03Z",
    "finished_at": None,
}

TRAINING_RUN_DETAIL = {
    **TRAINING_RUN,
    "config": {"from_db": True, "preset": "cpu", "models": ["efficientnet_lite0"], "activate_best": False},
    "log_tail": "epoch 20: val macro-F1 0.4821\nepoch 21: val macro-F1 0.4903",
    "error": "",
    "model_versions": [],
}

TRAINING_RUN_QUEUED = {
    **TRAINING_RUN_DETAIL,
    "status": "queued",
    "progress": 0.0,
    "current_step": "",
    "started_at": None,
    "log_tail": "",
}
