"""Datasets and splits on the real WikiArt sample."""

from __future__ import annotations

from collections import Counter

import pytest

from curation.styles import STYLE_CODES
from mltrain.data import (
    Sample,
    merge_samples,
    read_artgan_split,
    samples_from_folder,
    split_artgan,
    split_stratified,
)


def _per_class(split):
    return {name: Counter(sample.label for sample in items) for name, items in split.items()}


def test_sample_folder_has_654_images_in_27_classes_in_artgan_order(sample_dir):
    samples = samples_from_folder(sample_dir)

    assert len(samples) == 654
    assert sorted({sample.label for sample in samples}) == sorted(STYLE_CODES)
    assert (
        samples[0].key
        == "Abstract_Expressionism/"
        + sorted(path.name for path in (sample_dir / "Abstract_Expressionism").iterdir())[0]
    )


def test_stratified_split_sizes_and_tiny_classes_on_the_real_sample(sample_dir):
    samples = samples_from_folder(sample_dir)

    split = split_stratified(samples)
    counts = _per_class(split)

    assert {name: len(items) for name, items in split.items()} == {"train": 467, "val": 86, "test": 101}
    # The 3-image and 4-image classes still reach every split.
    assert [counts[name]["Analytical_Cubism"] for name in ("train", "val", "test")] == [1, 1, 1]
    assert [counts[name]["Action_painting"] for name in ("train", "val", "test")] == [2, 1, 1]
    # Stratified: 30-image classes split 22/4/4 or 21/4/5, 15-image New_Realism 11/2/2.
    assert [counts[name]["Impressionism"] for name in ("train", "val", "test")] == [21, 4, 5]
    assert [counts[name]["Minimalism"] for name in ("train", "val", "test")] == [22, 4, 4]
    assert [counts[name]["New_Realism"] for name in ("train", "val", "test")] == [11, 2, 2]
    assert all(counts[name][code] >= 1 for name in ("train", "val", "test") for code in STYLE_CODES)
    keys = [sample.key for items in split.values() for sample in items]
    assert len(keys) == len(set(keys)) == 654


def test_stratified_split_is_deterministic_and_independent_of_input_order(sample_dir):
    samples = samples_from_folder(sample_dir)

    first = split_stratified(samples)
    second = split_stratified(list(reversed(samples)))

    assert {name: [s.key for s in items] for name, items in first.items()} == {
        name: [s.key for s in items] for name, items in second.items()
    }


def test_split_of_two_and_one_image_classes():
    samples = [Sample(path=f"/x/{i}.jpg", label="Baroque", key=f"Baroque/{i}.jpg") for i in range(2)]
    samples.append(Sample(path="/x/solo.jpg", label="Rococo", key="Rococo/solo.jpg"))
    samples += [Sample(path=f"/y/{i}.jpg", label="Realism", key=f"Realism/{i}.jpg") for i in range(10)]

    counts = _per_class(split_stratified(samples))

    assert [counts[name]["Baroque"] for name in ("train", "val", "test")] == [1, 0, 1]
    assert [counts[name]["Rococo"] for name in ("train", "val", "test")] == [1, 0, 0]
    assert [counts[name]["Realism"] for name in ("train", "val", "test")] == [6, 2, 2]


def test_artgan_split_uses_its_lists_and_the_art_nouveau_alias(sample_dir, tmp_path):
    samples = samples_from_folder(sample_dir)
    ukiyo = [s for s in samples if s.label == "Ukiyo_e"][:6]
    nouveau = [s for s in samples if s.label == "Art_Nouveau_Modern"][:4]

    def artgan_name(sample):
        style, _, filename = sample.key.partition("/")
        return f"{'Art_Nouveau' if style == 'Art_Nouveau_Modern' else style}/{filename.split('__', 1)[1]}"

    (tmp_path / "style_train.csv").write_text(
        "".join(f"{artgan_name(s)},26\r\n" for s in ukiyo[:4]) + "".join(f"{artgan_name(s)},3\r\n" for s in nouveau[:3])
    )
    (tmp_path / "style_val.csv").write_text(f"{artgan_name(ukiyo[4])},26\r\n{artgan_name(nouveau[3])},3\r\n")

    split, unlisted = split_artgan(ukiyo + nouveau, membership=read_artgan_split(tmp_path))

    assert unlisted == 1  # ukiyo[5] is in neither list
    assert sorted(s.key for s in split["test"]) == sorted([ukiyo[4].key, nouveau[3].key])
    assert _per_class(split)["val"] == {"Ukiyo_e": 1, "Art_Nouveau_Modern": 1}
    assert _per_class(split)["train"] == {"Ukiyo_e": 3, "Art_Nouveau_Modern": 2}


def test_artgan_split_without_its_files_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"style_train\.csv"):
        read_artgan_split(tmp_path)


def test_database_label_wins_over_the_folder_for_the_same_bytes():
    folder = [
        Sample(path="/a.jpg", label="Baroque", key="Baroque/a.jpg", sha256="aa"),
        Sample(path="/b.jpg", label="Rococo", key="Rococo/b.jpg", sha256="bb"),
    ]
    database = [Sample(path="/media/a.jpg", label="Mannerism_Late_Renaissance", key="artwork:7", sha256="aa")]

    merged = merge_samples(folder, database)

    assert [(s.key, s.label) for s in merged] == [
        ("Rococo/b.jpg", "Rococo"),
        ("artwork:7", "Mannerism_Late_Renaissance"),
    ]


def test_missing_folder_and_empty_folder_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        samples_from_folder(tmp_path / "nope")
    with pytest.raises(ValueError, match="No images found"):
        samples_from_folder(tmp_path)
