"""xrdnet-data: build (or reuse) the datasets a training config needs, without training.

    xrdnet-data                           # the default training run's datasets
    xrdnet-data data.source.n=20000       # any data override that xrdnet-train takes
    xrdnet-data +rebuild=true             # rebuild even when a matching cache exists

Sharded builds (one process or node per shard, item seeds split by contiguous index range), then a
merge that gives the same dataset as a single build:

    xrdnet-data +shard=0 +num_shards=4    # ... +shard=3 +num_shards=4, anywhere sharing data/
    xrdnet-data +merge_shards=4

It composes the same config as xrdnet-train, so what it builds is exactly what training reuses.
"""

from __future__ import annotations

import logging

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from xrdnet.config import CONFIG_DIR
from xrdnet.data.dataset import build_or_load, build_shard, dataset_folder, merge_shards
from xrdnet.utils.errors import exit_on_setup_error

log = logging.getLogger(__name__)


def build(cfg: DictConfig) -> list[str]:
    """Build or reuse every dataset of `cfg.data`; returns their folders."""
    OmegaConf.resolve(cfg)
    datamodule = instantiate(cfg.data)
    if not hasattr(datamodule, "simulator"):
        raise SystemExit(f"{cfg.data._target_}: this data config has no simulated dataset to build")
    if cfg.get("shard") is not None:
        folder = build_shard(datamodule.data_dir, datamodule.source, datamodule.simulator, int(cfg.shard),
                             int(cfg.get("num_shards", 1)), num_workers=datamodule.build_workers,
                             chunk_size=datamodule.build_chunk_size, max_skip_fraction=datamodule.max_skip_fraction)
        print(f"{folder}: shard {cfg.shard} of {cfg.get('num_shards', 1)} built")
        return [str(folder)]
    if cfg.get("merge_shards"):
        merged = merge_shards(datamodule.data_dir, datamodule.source, datamodule.simulator, int(cfg.merge_shards))
        print(f"merged {cfg.merge_shards} shards: {len(merged)} items")
    folders = []
    for source in (datamodule.source, datamodule.real_source):
        if source is None:
            continue
        dataset = build_or_load(datamodule.data_dir, source, datamodule.simulator,
                                num_workers=datamodule.build_workers, rebuild=bool(cfg.get("rebuild", False)),
                                chunk_size=datamodule.build_chunk_size, max_skip_fraction=datamodule.max_skip_fraction)
        folder = dataset_folder(datamodule.data_dir, source, datamodule.simulator)
        counts = dataset.manifest["counts_per_class"]
        print(f"{folder}: {len(dataset)} items, {dataset.manifest['n_skipped']} skipped; per class {counts}")
        folders.append(str(folder))
    return folders


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def main(cfg: DictConfig) -> None:
    with exit_on_setup_error("xrdnet-data"):
        build(cfg)


if __name__ == "__main__":
    main()
