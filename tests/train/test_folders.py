"""Model folders never replace what is not a model: a file, or a folder of the user's other files."""

from __future__ import annotations

import pytest
import torch

from rnnkit.train import check_save_target, load_model_folder, save_model_folder


def test_a_model_folder_or_an_empty_one_is_written_and_replaced(tmp_path):
    model = torch.nn.Linear(2, 1)
    (tmp_path / "empty").mkdir()
    save_model_folder(tmp_path / "empty", model, {"v": 1})
    (tmp_path / "empty" / "plot.png").write_bytes(b"png")  # a model folder with a file of its own beside
    save_model_folder(tmp_path / "empty", model, {"v": 2})
    assert load_model_folder(tmp_path / "empty")[0] == {"v": 2}
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == ["config.json", "model.safetensors"]


def test_a_folder_of_other_files_or_a_file_is_refused_and_kept(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a.csv", "b.csv", "c.csv", "notes.txt"):
        (data / name).write_text(name)
    with pytest.raises(ValueError, match=r"data: the folder holds other files \(a\.csv, b\.csv, c\.csv and 1 more\)"
                                         r" and saving replaces the folder whole; give a new folder name"):
        save_model_folder(data, torch.nn.Linear(2, 1), {})
    assert sorted(p.name for p in data.iterdir()) == ["a.csv", "b.csv", "c.csv", "notes.txt"]
    with pytest.raises(ValueError, match=r"a\.csv: it is a file; give a folder name for the model"):
        check_save_target(data / "a.csv")
    assert (data / "a.csv").read_text() == "a.csv"
    check_save_target(tmp_path / "new" / "model")  # not there yet: fine


def test_a_damaged_or_misnamed_model_folder_is_one_error_naming_it(tmp_path):
    save_model_folder(tmp_path / "m", torch.nn.Linear(2, 1), {})
    with pytest.raises(ValueError, match=r"config\.json is a file, not a model folder: give the folder that holds "
                                         r"config\.json and model\.safetensors \(here: .*m\)"):
        load_model_folder(tmp_path / "m" / "config.json")
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:20])  # a copy cut short
    with pytest.raises(ValueError, match=r"model folder .*m has an unreadable model\.safetensors \(.+\); copy it "):
        load_model_folder(tmp_path / "m")
