"""Config loading, overrides and load-time validation: errors must name the key path and file."""
import os

import pytest
import yaml

import ppcrnn  # noqa: F401  (registers components)
from ppcrnn.character import CharacterSet, read_dictionary
from ppcrnn.config import apply_overrides, load_config, with_global
from ppcrnn.errors import ConfigError

ARCH = {
    "model_type": "rec", "algorithm": "CRNN",
    "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "large"},
    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 96},
    "Head": {"name": "CTCHead", "fc_decay": 0},
}


def write_config(tmp_path, **sections):
    config = {"Global": {"epoch_num": 1, "save_model_dir": str(tmp_path / "out")},
              "Architecture": ARCH, "Loss": {"name": "CTCLoss"},
              "PostProcess": {"name": "CTCLabelDecode"}, "Metric": {"name": "RecMetric"}}
    config.update(sections)
    path = tmp_path / "cfg.yml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_valid_config_loads_and_fills_defaults(tmp_path):
    config = load_config(write_config(tmp_path))
    assert config["Global"]["max_text_length"] == 25
    assert config["Global"]["seed"] == 1024
    assert config["Architecture"]["Backbone"]["scale"] == 0.5


def test_unknown_component_lists_known_names(tmp_path):
    arch = dict(ARCH, Backbone={"name": "ResNetXYZ"})
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, Architecture=arch))
    message = str(err.value)
    assert "cfg.yml" in message and "Architecture.Backbone.name" in message
    assert "ResNetXYZ" in message and "MobileNetV3" in message


def test_unknown_option_names_key_path(tmp_path):
    arch = dict(ARCH, Neck={"name": "SequenceEncoder", "hiden_size": 96})
    with pytest.raises(ConfigError, match=r"cfg\.yml: Architecture\.Neck\.hiden_size.*hidden_size"):
        load_config(write_config(tmp_path, Architecture=arch))


def test_wrong_type_names_key_path(tmp_path):
    arch = dict(ARCH, Neck={"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": "big"})
    with pytest.raises(ConfigError, match=r"Architecture\.Neck\.hidden_size: expected int"):
        load_config(write_config(tmp_path, Architecture=arch))
    with pytest.raises(ConfigError, match=r"Global\.epoch_num: expected int"):
        load_config(write_config(tmp_path), ["Global.epoch_num=ten"])


def test_missing_required_sections(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({"Global": {}}))
    with pytest.raises(ConfigError, match=r"bad\.yml: Architecture: missing"):
        load_config(str(path))
    with pytest.raises(ConfigError, match="Architecture.Backbone: missing"):
        load_config(write_config(tmp_path, Architecture={"model_type": "rec"}))


def test_unknown_top_level_section(tmp_path):
    with pytest.raises(ConfigError, match="Trian: unknown top-level section"):
        load_config(write_config(tmp_path, Trian={}))


def test_overrides_are_yaml_parsed_and_merge():
    config = {"Global": {"use_gpu": True, "eval_batch_step": [0, 2000]},
              "Train": {"dataset": {"transforms": [{"RecResizeImg": {"image_shape": [3, 32, 100]}}]}}}
    apply_overrides(config, ["Global.use_gpu=false", "Global.eval_batch_step=[10, 50]",
                             "Global.pretrained_model=./x/best_accuracy",
                             "Train.dataset.transforms.0.RecResizeImg.image_shape=[3, 32, 320]"])
    assert config["Global"]["use_gpu"] is False
    assert config["Global"]["eval_batch_step"] == [10, 50]
    assert config["Global"]["pretrained_model"] == "./x/best_accuracy"
    assert config["Train"]["dataset"]["transforms"][0]["RecResizeImg"]["image_shape"] == [3, 32, 320]
    with pytest.raises(ConfigError, match="unknown section 'Golbal'"):
        apply_overrides(config, ["Golbal.use_gpu=false"])
    with pytest.raises(ConfigError, match="expected key=value"):
        apply_overrides(config, ["Global.use_gpu"])


def test_environment_variables_expand(tmp_path, monkeypatch):
    monkeypatch.setenv("PPCRNN_TEST_DIR", "/data/x")
    path = write_config(tmp_path)
    text = open(path).read().replace(str(tmp_path / "out"), "${PPCRNN_TEST_DIR}/out")
    open(path, "w").write(text)
    assert load_config(path)["Global"]["save_model_dir"] == "/data/x/out"
    monkeypatch.delenv("PPCRNN_TEST_DIR")
    with pytest.raises(ConfigError, match=r"Global\.save_model_dir: environment variable"):
        load_config(path)


def test_global_wins_when_merged_into_ops():
    merged = with_global({"image_shape": [3, 32, 100], "max_text_length": 10}, {"max_text_length": 25})
    assert merged == {"image_shape": [3, 32, 100], "max_text_length": 25}


def test_default_character_set_lower_cases():
    charset = CharacterSet()
    assert charset.num_classes == 37 and charset.characters[0] == "blank"
    assert charset.encode("AbZ!") == ([11, 12, 36], "!")


def test_dictionary_file_crlf_space_and_duplicates(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_bytes("a\r\nB\r\n \r\né\r\na\r\n".encode("utf-8"))
    assert read_dictionary(str(path)) == ["a", "B", " ", "é", "a"]
    charset = CharacterSet(str(path), use_space_char=True)
    assert charset.characters == ["blank", "a", "B", " ", "é", "a", " "]
    indices, dropped = charset.encode("aB é!b")
    assert indices == [5, 2, 6, 4] and dropped == "!b"  # later duplicates win; no lower-casing


def test_bad_dictionary_file_named(tmp_path):
    with pytest.raises(ConfigError, match="missing.txt"):
        CharacterSet(str(tmp_path / "missing.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a\n\xff\n")
    with pytest.raises(ConfigError, match=r"bad\.txt:2: not valid UTF-8"):
        CharacterSet(str(bad))


def test_shipped_configs_load():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    configs = sorted(f for f in os.listdir(os.path.join(repo, "configs")) if f.endswith(".yml"))
    assert "rec.yml" in configs and "rec_mv3_none_bilstm_ctc.yml" in configs
    loaded = {name: load_config(os.path.join(repo, "configs", name)) for name in configs}
    # the IC15 fine-tune starts from the quickstart's best_accuracy: same network, or a partial load
    assert loaded["rec_icdar15_train.yml"]["Global"]["pretrained_model"].startswith(
        loaded["rec.yml"]["Global"]["save_model_dir"].rstrip("/"))
    assert loaded["rec_icdar15_train.yml"]["Architecture"] == loaded["rec.yml"]["Architecture"]


def test_allowed_values_checked_at_load_time(tmp_path):
    arch = dict(ARCH, Backbone={"name": "MobileNetV3", "scale": 0.6, "model_name": "large"})
    with pytest.raises(ConfigError, match=r"cfg\.yml: Architecture\.Backbone\.scale: expected one of"):
        load_config(write_config(tmp_path, Architecture=arch))
    arch = dict(ARCH, Neck={"name": "SequenceEncoder", "encoder_type": "lstm"})
    with pytest.raises(ConfigError, match=r"Architecture\.Neck\.encoder_type: expected one of 'reshape'"):
        load_config(write_config(tmp_path, Architecture=arch))
