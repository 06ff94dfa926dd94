from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import serialization
from tensorgraph.serialization import SerializationError, load, save


def test_round_trip_of_nested_state_keeps_types_dtypes_and_values(tmp_path: Path) -> None:
    state: dict[str, Any] = {
        "layer.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
        "layer.bias": tg.tensor(np.array([1.0, 2.0]), requires_grad=True),
        "steps": np.int64(7),
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.ones(2)}},
            "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "name": None}],
        },
        "flag": True,
    }
    path = tmp_path / "state.npz"
    save(state, path)
    back = load(path)
    assert back["layer.weight"].dtype == np.float32
    np.testing.assert_array_equal(back["layer.weight"], state["layer.weight"])
    assert isinstance(back["layer.bias"], tg.Tensor) and back["layer.bias"].requires_grad
    assert back["layer.bias"].dtype == np.float64
    assert back["steps"] == 7 and isinstance(back["steps"], np.int64)
    assert back["optimizer"]["state"][0]["step"] == 3
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["optimizer"]["param_groups"][0]["name"] is None
    assert back["flag"] is True


def test_file_is_plain_npz_readable_without_pickle(tmp_path: Path) -> None:
    path = tmp_path / "state.npz"
    save({"w": np.ones(3)}, path)
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["__tensorgraph__"]))
        assert meta["kind"] == "state_dict"
        assert all(archive[name].dtype != object for name in archive.files)


def test_unpicklable_values_are_refused_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "state.npz"
    with pytest.raises(TypeError, match=r"the object\['f'\] is a function"):
        save({"f": lambda: 0}, path)
    with pytest.raises(TypeError, match="object array"):
        save({"o": np.array([object()])}, path)
    assert not path.exists()


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "state.npz"
    save({"w": np.ones(3)}, path)

    class Exploding:
        def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
            raise RuntimeError("disk full")

    original = serialization._encode
    with pytest.MonkeyPatch.context() as mp:
        # Fail halfway through writing the archive.
        def failing_encode(obj: Any, arrays: dict[str, Any], where: str) -> Any:
            out = original(obj, arrays, where)
            arrays["boom"] = Exploding()
            return out

        mp.setattr(serialization, "_encode", failing_encode)
        with pytest.raises(RuntimeError, match="disk full"):
            save({"w": np.zeros(3)}, path)
    np.testing.assert_array_equal(load(path)["w"], np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["state.npz"]


def test_truncated_foreign_and_missing_files_give_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "state.npz"
    save({"w": np.arange(1000.0)}, path)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[:300])
    with pytest.raises(SerializationError, match=r"truncated\.npz is not a complete tensorgraph"):
        load(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.ones(2))
    with pytest.raises(SerializationError, match="not one written by tensorgraph"):
        load(foreign)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(SerializationError, match="not a complete tensorgraph file"):
        load(text)
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(2))
    with pytest.raises(SerializationError, match=r"single \.npy array"):
        load(npy)
    with pytest.raises(FileNotFoundError, match=r"absent\.npz"):
        load(tmp_path / "absent.npz")
    with zipfile.ZipFile(tmp_path / "newer.npz", "w") as z, z.open("__tensorgraph__.npy", "w") as f:
        np.save(f, np.array(json.dumps({"format": "tensorgraph", "version": 99})))
    with pytest.raises(SerializationError, match="newer tensorgraph"):
        load(tmp_path / "newer.npz")


def test_load_model_on_a_state_dict_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "state.npz"
    save({"w": np.ones(2)}, path)
    with pytest.raises(SerializationError, match="holds a state_dict, not a model"):
        serialization.load_model(path)


def test_model_file_rebuilds_the_architecture_without_code(tmp_path: Path) -> None:
    from tensorgraph import nn

    model = nn.MLP([3, 5, 4, 2], batch_norm=True, dropout=0.25, output="softmax", generator=1)
    path = tmp_path / "model.npz"
    serialization.save_model(model, path, metadata={"classes": ["a", "b"], "mean": np.ones(3)})
    rebuilt = serialization.load_model(path)
    assert repr(rebuilt) == repr(model)
    assert rebuilt.training is False
    x = tg.tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32))
    model.eval()
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
    meta = serialization.load_metadata(path)
    assert meta["classes"] == ["a", "b"]
    np.testing.assert_array_equal(meta["mean"], np.ones(3))
    assert set(load(path)) == set(model.state_dict())  # load() gives the state dict


def test_model_file_with_mismatched_weights_or_unknown_class_is_refused(tmp_path: Path) -> None:
    from tensorgraph import nn

    path = tmp_path / "model.npz"
    serialization.save_model(nn.MLP([3, 4, 1], generator=0), path)
    with np.load(path) as archive:
        meta = json.loads(str(archive["__tensorgraph__"]))
        arrays = {k: archive[k] for k in archive.files if k != "__tensorgraph__"}
    meta["architecture"]["config"]["sizes"] = [3, 6, 1]
    serialization._write(tmp_path / "mismatch.npz", meta, arrays)
    with pytest.raises(SerializationError, match=r"weights in .*mismatch\.npz do not fit"):
        serialization.load_model(tmp_path / "mismatch.npz")
    meta["architecture"]["class"] = "Transformer"
    serialization._write(tmp_path / "unknown.npz", meta, arrays)
    with pytest.raises(SerializationError, match="holds a 'Transformer' model"):
        serialization.load_model(tmp_path / "unknown.npz")

    class Custom(nn.Module):
        def forward(self, x: Any) -> Any:
            return x

    with pytest.raises(TypeError, match="cannot record the architecture of a Custom"):
        serialization.save_model(Custom(), tmp_path / "custom.npz")
    assert not (tmp_path / "custom.npz").exists()
