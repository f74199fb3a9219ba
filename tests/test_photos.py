"""Labelled photo folders and their cache (model.photos), on generated photos."""

import cv2
import numpy as np
import pytest

from model import photos
from segmentation.config import SegmentationConfig
from model.photos import (build_photo_set, labels_for, load_photo_set, read_labels,
                                 read_photo_set, write_photo_set)
from model.taught import save_example
from synthetic_images import LABELS, make_photo_folder, trouser_photo, tshirt_photo

def test_a_photo_set_keeps_found_garments_with_their_accepted_classes(tmp_path, capsys):
    root = make_photo_folder(tmp_path / "photos")
    photo_set = build_photo_set(root, read_labels(root / "labels.csv"), progress=False)
    assert photo_set.images.shape == (6, 28, 28) and photo_set.images.dtype == np.uint8
    assert photo_set.counts() == {"pants": 3, "t-shirt": 3}
    shirts = photo_set.folders == "t-shirt"
    assert photo_set.accepted[shirts].sum(1).tolist() == [1, 1, 1]
    assert photo_set.accepted[shirts, 0].all() and photo_set.group[shirts][:, [0, 2, 4, 6]].all()
    assert photo_set.accepted[~shirts, 1].all() and not photo_set.accepted[~shirts, 0].any()
    # Every source file is listed with a checksum; the two bad ones are left out and reported.
    assert len(photo_set.sources) == 8
    assert set(photo_set.left_out) == {"pants/blank.png", "t-shirt/corrupt.jpg"}
    assert "no garment found" in photo_set.left_out["pants/blank.png"]
    assert "unreadable" in photo_set.left_out["t-shirt/corrupt.jpg"]
    assert "left out t-shirt/corrupt.jpg" in capsys.readouterr().err
    assert all(image.max() > 0 for image in photo_set.images)


def test_the_cache_is_reused_and_rebuilt_when_photos_or_settings_change(tmp_path, capsys,
                                                                         monkeypatch):
    root = make_photo_folder(tmp_path / "photos", count=2)
    cache = tmp_path / "cache.npz"
    first = load_photo_set(root, cache=cache)
    assert cache.is_file() and "cached in" in capsys.readouterr().err
    again = load_photo_set(root, cache=cache)
    assert f"from {cache}" in capsys.readouterr().err
    np.testing.assert_array_equal(first.images, again.images)
    assert again.checksum == first.checksum

    # A changed photo: rebuilt, with a new checksum.
    cv2.imwrite(str(root / "pants" / "pants0.png"), trouser_photo(9))
    changed = load_photo_set(root, cache=cache)
    assert "changed; rebuilding" in capsys.readouterr().err
    assert changed.checksum != first.checksum
    # A new photo: rebuilt, one more image.
    cv2.imwrite(str(root / "pants" / "pants5.png"), trouser_photo(5))
    assert len(load_photo_set(root, cache=cache).images) == len(first.images) + 1
    assert "changed; rebuilding" in capsys.readouterr().err
    # Other settings: rebuilt.
    load_photo_set(root, cache=cache, config=SegmentationConfig(hue_tolerance=20))
    assert "changed; rebuilding" in capsys.readouterr().err
    # Other segmentation code (a digest of it is part of the settings): rebuilt.
    load_photo_set(root, cache=cache)
    capsys.readouterr()
    monkeypatch.setattr(photos, "segmentation_code", lambda: "other code")
    load_photo_set(root, cache=cache)
    assert "changed; rebuilding" in capsys.readouterr().err
    monkeypatch.undo()
    # A broken cache file: rebuilt, not an error.
    cache.write_bytes(b"broken")
    assert len(load_photo_set(root, cache=cache).images) == len(first.images) + 1
    assert "not a photo cache" in capsys.readouterr().err


def test_the_cache_file_round_trips(tmp_path):
    root = make_photo_folder(tmp_path / "photos", count=1)
    photo_set = build_photo_set(root, read_labels(root / "labels.csv"), progress=False)
    write_photo_set(tmp_path / "set.npz", photo_set)
    read = read_photo_set(tmp_path / "set.npz")
    for name in ("images", "accepted", "group", "folders", "paths"):
        np.testing.assert_array_equal(getattr(read, name), getattr(photo_set, name))
    assert (read.sources, read.left_out, read.settings) == \
        (photo_set.sources, photo_set.left_out, photo_set.settings)
    assert not list(tmp_path.glob("*.partial.npz"))


def test_bad_photo_folders_and_labels_are_explained(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_photo_set(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "labels.csv").write_text(LABELS)
    with pytest.raises(ValueError, match="No usable photos"):
        load_photo_set(tmp_path / "empty", cache=tmp_path / "cache.npz")
    bad = tmp_path / "bad.csv"
    bad.write_text("folder,accepted_classes,group_classes\nshirt,12,0\n")
    with pytest.raises(ValueError, match="line 2: accepted_classes '12' must be class indices 0-9"):
        read_labels(bad)


def test_random_views_are_added_repeatably_and_keep_their_photo_labels(tmp_path, capsys):
    root = make_photo_folder(tmp_path / "photos", count=2)
    labels = read_labels(root / "labels.csv")
    plain = build_photo_set(root, labels, progress=False)
    viewed = build_photo_set(root, labels, progress=False, view_count=3)
    originals = viewed.views == 0
    np.testing.assert_array_equal(viewed.images[originals], plain.images)
    assert set(viewed.views.tolist()) <= {0, 1, 2, 3} and len(viewed.images) > len(plain.images)
    assert viewed.counts() == plain.counts()  # Photos are counted once, whatever their views.
    for path in set(viewed.paths.tolist()):
        rows = viewed.paths == path
        assert len(set(viewed.folders[rows].tolist())) == 1
        assert (viewed.accepted[rows] == viewed.accepted[rows][0]).all()
    again = build_photo_set(root, labels, progress=False, view_count=3)
    np.testing.assert_array_equal(again.images, viewed.images)
    # A cache made without views is not used when views are asked for.
    cache = tmp_path / "cache.npz"
    load_photo_set(root, cache=cache)
    capsys.readouterr()
    assert len(load_photo_set(root, cache=cache, view_count=3).images) == len(viewed.images)
    assert "changed; rebuilding" in capsys.readouterr().err


def test_a_taught_folder_needs_no_labels_and_its_saved_inputs_are_used_as_they_are(tmp_path):
    root = tmp_path / "taught"
    (root / "0").mkdir(parents=True)
    cv2.imwrite(str(root / "0" / "shirt.png"), tshirt_photo(240, 320)[0])  # A photo.
    saved = np.zeros((28, 28), np.uint8)
    saved[4:24, 9:19] = 255  # Would be cut out differently if segmented again.
    save_example(root, 1, saved, crop=trouser_photo(0))  # Input, and a crop (left out).
    (root / "1" / "odd.input.png").write_bytes(b"not a png")
    (root / "notes").mkdir()
    labels = labels_for(root)
    assert [(item.folder, item.accepted_classes, item.group_classes) for item in labels] == \
        [("0", (0,), (0, 2, 4, 6)), ("1", (1,), (1,))]
    photo_set = load_photo_set(root, cache=tmp_path / "cache.npz", progress=False)
    assert photo_set.counts() == {"0": 1, "1": 1}
    saved_row = int(np.flatnonzero(photo_set.folders == "1")[0])
    assert np.array_equal(photo_set.images[saved_row], saved)
    assert photo_set.accepted[saved_row].tolist() == [index == 1 for index in range(10)]
    assert not any(path.endswith(".crop.jpg") for path in photo_set.sources)
    assert "28x28" in photo_set.left_out["1/odd.input.png"]
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="no sub-folders named by class index"):
        labels_for(tmp_path / "plain")


def test_each_view_is_segmented_at_settings_drawn_around_the_app_and_the_photo_at_them(
        tmp_path, monkeypatch):
    import model.photos as photos
    from segmentation.config import SegmentationConfig

    root = make_photo_folder(tmp_path / "photos", count=1)
    used = []
    segment = photos.segment
    monkeypatch.setattr(photos, "segment",
                        lambda image, config: used.append(config) or segment(image, config))
    build_photo_set(root, read_labels(root / "labels.csv"), progress=False, view_count=4)
    app = SegmentationConfig()
    # A T-shirt and its four views, a blank photo (no garment, no views), a trouser and its
    # four views.
    assert len(used) == 11 and all(used[index] == app for index in (0, 5, 6))
    views = used[1:5] + used[7:11]
    assert all(config != app for config in views) and len(set(views)) == len(views)
    assert all(8 <= config.hue_tolerance <= 18 and config.close_kernel in (3, 5, 7)
               for config in views)
