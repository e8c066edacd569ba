"""Entry point for the DDP tests: ``torchrun --nproc_per_node 2 ddp_train.py DATA OUT [frozen]`` (or plain python).

Not collected by pytest (no ``test_`` prefix). Trains the small baseline through the same library call that
``train_models`` makes, so the two-process and single-process runs can be compared.
"""

import sys

import torch

from mltrain.config import TrainConfig
from mltrain.data import samples_from_folder
from mltrain.experiment import run_experiment

torch.set_num_threads(1)
data_dir, output_dir = sys.argv[1], sys.argv[2]
frozen = sys.argv[3:] == ["frozen"]  # the CPU preset's path: rank 0 trains the head on cached features alone
config = TrainConfig(
    architecture="efficientnet_lite0" if frozen else "simple_cnn",
    pretrained=frozen,
    freeze_backbone=frozen,
    epochs=2,
    input_size=64,
    batch_size=4,
    num_workers=0,
    bootstrap_samples=50,
    device="cpu",
)
run_experiment(config, samples=samples_from_folder(data_dir), run_dir=output_dir, show_progress=False)
if torch.distributed.is_initialized():
    torch.distributed.destroy_process_group()
