"""A stratified share of a labelled photo folder, as a folder of symbolic links, for a
learning curve: how much the real-photo figures owe to the number of training photos.

    python -m experiments.photo_subset PHOTOS/train runs/photos-half --share 0.5
    python -m model.train --out runs/half --photos runs/photos-half \\
        --photo-labels PHOTOS/labels.csv --validation-photos PHOTOS/validation \\
        --validation-photo-labels PHOTOS/labels.csv --quiet

Every sub-folder keeps round(share * n) of its n photos (at least one), drawn with a fixed
seed, so the subset is the same on every run; the original files are not copied or touched.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from segmentation.images import IMAGE_SUFFIXES


def subset(files: list[Path], share: float, seed: int) -> list[Path]:
    """round(share * len(files)) of the files (at least one), in sorted order, drawn with
    seed from the sorted list."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}.")
    files = sorted(files)
    if not files:
        return []
    count = max(1, round(share * len(files)))
    chosen = np.random.default_rng(seed).choice(len(files), size=count, replace=False)
    return [files[index] for index in sorted(chosen)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="labelled photo folder, one sub-folder per label")
    parser.add_argument("out", help="new folder for the links (must not exist)")
    parser.add_argument("--share", type=float, default=0.5, help="share of each sub-folder kept")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw")
    arguments = parser.parse_args(argv)
    source, out = Path(arguments.source).resolve(), Path(arguments.out)
    if not source.is_dir():
        parser.error(f"{source} is not a folder; pass the labelled photo folder.")
    if out.exists():
        parser.error(f"{out} exists; pass a new folder.")
    if not 0 < arguments.share <= 1:
        parser.error(f"--share must be in (0, 1], got {arguments.share}.")
    for folder in sorted(path for path in source.iterdir() if path.is_dir()):
        files = [path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES]
        kept = subset(files, arguments.share, arguments.seed)
        (out / folder.name).mkdir(parents=True)
        for path in kept:
            os.symlink(path, out / folder.name / path.name)
        print(f"{folder.name}: {len(kept)} of {len(files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
