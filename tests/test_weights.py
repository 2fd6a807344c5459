"""Weight I/O: save/load round trip, the shape-filtered load report, fp16 files, atomic saving,
and head growth for fine-tuning with appended characters."""
import logging
import os

import numpy as np
import paddle
import pytest
import yaml

import ppcrnn
from ppcrnn.character import CharacterSet
from ppcrnn.weights import atomic_save, load_checkpoint_weights, load_pretrained, save_weights

LOGGER = logging.getLogger("tests.weights")  # propagates to the root logger, so caplog sees it
DEFAULT = CharacterSet().characters  # blank + 0-9a-z, 37 classes


def build(num_classes=37, hidden_size=16, **backbone):
    backbone = {"name": "MobileNetV3", "model_name": "small", "scale": 0.35, **backbone}
    return ppcrnn.build_model({
        "Backbone": backbone,
        "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": hidden_size},
        "Head": {"name": "CTCHead", "fc_decay": 0, "out_channels": num_classes},
    })


def snapshot(model):
    return {key: value.numpy().copy() for key, value in model.state_dict().items()}


def test_round_trip(tmp_path):
    source, target = build(), build()
    path = save_weights(source, str(tmp_path / "model"))
    assert path == str(tmp_path / "model.pdparams") and os.listdir(tmp_path) == ["model.pdparams"]
    report = load_pretrained(target, str(tmp_path / "model"), logger=LOGGER)  # prefix without suffix
    assert report.matched == list(source.state_dict())
    assert not (report.shape_mismatched or report.missing or report.unexpected or report.grown)
    for key, value in snapshot(source).items():
        np.testing.assert_array_equal(target.state_dict()[key].numpy(), value, err_msg=key)
    source.eval(), target.eval()
    images = paddle.rand([1, 3, 32, 40])
    np.testing.assert_array_equal(source(images).numpy(), target(images).numpy())
    resumed = build()
    assert load_checkpoint_weights(resumed, str(tmp_path / "model.pdparams"), logger=LOGGER).matched == report.matched


def test_fp16_file_is_cast(tmp_path):
    source, target = build(), build()
    half = {key: value.astype("float16") for key, value in source.state_dict().items()}
    paddle.save(half, str(tmp_path / "half.pdparams"))
    report = load_pretrained(target, str(tmp_path / "half.pdparams"), logger=LOGGER)
    assert len(report.matched) == len(half) and not report.shape_mismatched
    weight = target.state_dict()["backbone.conv1.conv.weight"]
    assert weight.dtype == paddle.float32
    np.testing.assert_allclose(weight.numpy(), source.state_dict()["backbone.conv1.conv.weight"].numpy(),
                               rtol=1e-3, atol=1e-3)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing_here.pdparams"):
        load_pretrained(build(), str(tmp_path / "nothing_here"), logger=LOGGER)


def test_shape_filtered_report(tmp_path, caplog):
    source = build(num_classes=37, hidden_size=16)
    save_weights(source, str(tmp_path / "src"))
    target = build(num_classes=40, hidden_size=24)
    before = snapshot(target)
    with caplog.at_level(logging.INFO, logger=LOGGER.name):
        report = load_pretrained(target, str(tmp_path / "src"), logger=LOGGER)
    changed = {k for k in before if k.startswith(("neck.", "head."))}  # everything the sizes touch
    assert {key for key, _, _ in report.shape_mismatched} == changed
    assert set(report.matched) == set(before) - changed
    assert not (report.missing or report.unexpected or report.grown)  # no characters: no growth
    file_shapes = {k: list(v.shape) for k, v in source.state_dict().items()}
    for key, model_shape, file_shape in report.shape_mismatched:
        assert model_shape == list(before[key].shape) and file_shape == file_shapes[key]
        np.testing.assert_array_equal(target.state_dict()[key].numpy(), before[key])  # fresh init kept
    np.testing.assert_array_equal(target.state_dict()["backbone.conv2.conv.weight"].numpy(),
                                  source.state_dict()["backbone.conv2.conv.weight"].numpy())
    # the head line is logged even though 32 LSTM mismatches come first
    assert "head.fc.weight [48, 40] not matched with loaded params head.fc.weight [32, 37]" in caplog.text


def test_missing_and_unexpected_keys(tmp_path):
    save_weights(build(), str(tmp_path / "src"))
    report = load_pretrained(build(disable_se=True), str(tmp_path / "src"), logger=LOGGER)
    assert report.unexpected and all(".mid_se." in key for key in report.unexpected)
    assert not report.missing
    with_se = build()
    save_weights(build(disable_se=True), str(tmp_path / "no_se"))
    report = load_pretrained(with_se, str(tmp_path / "no_se"), logger=LOGGER)
    assert sorted(report.missing) == sorted(k for k in with_se.state_dict() if ".mid_se." in k)


def test_lstm_alias_names_count_as_loaded(tmp_path):
    # nn.LSTM lists each tensor twice (flat weight_ih_l0 and structured 0.cell_fw.weight_ih);
    # a file with only the flat names still loads the whole LSTM and reports nothing missing.
    source = build()
    flat_only = {k: v for k, v in source.state_dict().items() if ".cell_" not in k}
    paddle.save(flat_only, str(tmp_path / "flat.pdparams"))
    target = build()
    report = load_pretrained(target, str(tmp_path / "flat"), logger=LOGGER)
    assert not report.missing and len(report.matched) == len(flat_only)
    np.testing.assert_array_equal(target.state_dict()["neck.encoder.lstm.1.cell_bw.weight_hh"].numpy(),
                                  source.state_dict()["neck.encoder.lstm.weight_hh_l1_reverse"].numpy())


def test_atomic_save_keeps_old_file_on_failure(tmp_path):
    path = str(tmp_path / "state.pdparams")
    atomic_save({"epoch": 1}, path)
    with pytest.raises(Exception):
        atomic_save({"bad": lambda: None}, path)  # cannot be pickled
    assert os.listdir(tmp_path) == ["state.pdparams"]  # no temporary file left behind
    assert paddle.load(path) == {"epoch": 1}


# ---- head growth ----------------------------------------------------------------------------

def head_and_logits(model, images):
    model.eval()
    features = model.neck(model.backbone(images))
    return model.head.fc.weight.numpy().copy(), model.head.fc.bias.numpy().copy(), model.head.fc(features).numpy()


def grow(tmp_path, old_characters, new_characters, caplog, states=None, config=None, new_classes=None):
    source = build(num_classes=len(old_characters))
    prefix = str(tmp_path / "best_accuracy")
    save_weights(source, prefix)
    if states is not None:
        atomic_save(states, prefix + ".states")
    if config is not None:
        with open(tmp_path / "config.yml", "w", encoding="utf-8") as handle:
            yaml.safe_dump(config, handle)
    target = build(num_classes=new_classes or len(new_characters))
    images = paddle.rand([2, 3, 32, 48])
    fresh_weight, fresh_bias, _ = head_and_logits(target, images)
    with caplog.at_level(logging.INFO, logger=LOGGER.name):
        report = load_pretrained(target, prefix, characters=new_characters, logger=LOGGER)
    return report, head_and_logits(source, images), (fresh_weight, fresh_bias), head_and_logits(target, images)


def assert_grown(report, old, fresh, new, old_classes):
    old_weight, old_bias, old_logits = old
    fresh_weight, fresh_bias = fresh
    new_weight, new_bias, new_logits = new
    assert sorted(report.grown) == ["head.fc.bias", "head.fc.weight"] and not report.shape_mismatched
    np.testing.assert_array_equal(new_weight[:, :old_classes], old_weight)  # old columns bit-identical
    np.testing.assert_array_equal(new_bias[:old_classes], old_bias)
    np.testing.assert_array_equal(new_weight[:, old_classes:], fresh_weight[:, old_classes:])  # fresh init
    assert np.abs(new_weight[:, old_classes:]).max() > 0
    np.testing.assert_allclose(new_logits[..., :old_classes], old_logits, atol=1e-6)


def test_growth_from_default_37_classes(tmp_path, caplog):
    new = DEFAULT + ["A", "B", "C"]
    report, old, fresh, grown = grow(tmp_path, DEFAULT, new, caplog)
    assert_grown(report, old, fresh, grown, 37)
    assert "grew the head" in caplog.text


def test_growth_uses_states_characters(tmp_path, caplog):
    old_chars = ["blank", "x", "y", "z"]
    report, old, fresh, grown = grow(tmp_path, old_chars, old_chars + ["w"], caplog,
                                     states={"epoch": 3, "characters": old_chars})
    assert_grown(report, old, fresh, grown, 4)


def test_growth_uses_config_beside_checkpoint(tmp_path, caplog):
    dictionary = tmp_path / "old_dict.txt"
    dictionary.write_text("q\nr\ns\n", encoding="utf-8")
    config = {"Global": {"character_dict_path": str(dictionary), "use_space_char": True}}
    old_chars = ["blank", "q", "r", "s", " "]
    report, old, fresh, grown = grow(tmp_path, old_chars, old_chars + ["t", "u"], caplog, config=config)
    assert_grown(report, old, fresh, grown, 5)


def test_growth_tolerates_config_with_missing_dict(tmp_path, caplog):
    config = {"Global": {"character_dict_path": str(tmp_path / "gone.txt")}}
    report, old, fresh, grown = grow(tmp_path, DEFAULT, DEFAULT + ["!"], caplog, config=config)
    assert_grown(report, old, fresh, grown, 37)  # falls back to the 37-class default
    assert "gone.txt" in caplog.text


@pytest.mark.parametrize("case", ["reordered", "unknown_old", "no_characters", "states_disagree"])
def test_growth_refused_reinitialises_head(tmp_path, caplog, case):
    old_chars, new_chars, states, why = DEFAULT, DEFAULT + ["A"], None, "does not start with the old one"
    if case == "reordered":
        new_chars = ["blank", "a"] + DEFAULT[1:]
    elif case == "unknown_old":
        old_chars, new_chars, why = ["blank", "x", "y"], ["blank", "x", "y", "z"], "old character list is unknown"
    elif case == "no_characters":
        why = "no character list was given"
    elif case == "states_disagree":  # the .states list wins over the 37-class default
        states = {"characters": ["blank"] + list("zyxwvutsrqponmlkjihgfedcba9876543210")}
    report, old, fresh, grown = grow(tmp_path, old_chars, None if case == "no_characters" else new_chars,
                                     caplog, states=states, new_classes=len(new_chars))
    assert not report.grown
    assert sorted(key for key, _, _ in report.shape_mismatched) == ["head.fc.bias", "head.fc.weight"]
    np.testing.assert_array_equal(grown[0], fresh[0])  # PaddleOCR's behaviour: fresh head
    np.testing.assert_array_equal(grown[1], fresh[1])
    assert why in caplog.text and "re-initialised" in caplog.text
