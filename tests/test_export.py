"""Export: the inference directory PaddleX reads, numbers equal to the dygraph model, legacy format,
character lists, refusal of mismatched weights, the CLI, and ONNX."""
import copy
import os

import numpy as np
import paddle
import pytest
import yaml

from fixtures_model import build, load_tool, random_weights, tiny_config, write_config
from ppcrnn.character import CharacterSet
from ppcrnn.errors import ConfigError
from ppcrnn.inference import InferenceConfig, export_model, export_onnx
from ppcrnn.inference.engines import OnnxEngine, PaddleEngine

PADDLEX_OPS = {"DecodeImage", "RecResizeImg", "MultiLabelEncode", "KeepKeys"}


def dygraph_probs(config, weights, batch):
    model = build(config)
    model.set_state_dict(paddle.load(weights))
    model.eval()
    with paddle.no_grad():
        return model(paddle.to_tensor(batch)).numpy()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(config, weights, export dir) of a random tiny model."""
    folder = str(tmp_path_factory.mktemp("export"))
    config = tiny_config(folder)
    weights = random_weights(config, os.path.join(folder, "model"))
    export_model(config, os.path.join(folder, "inference"), weights)
    return config, weights, os.path.join(folder, "inference")


def program_input_shape(folder):
    """Declared shape of the exported program's input `x`."""
    paddle.enable_static()
    try:
        program, feeds, _ = paddle.static.load_inference_model(os.path.join(folder, "inference"),
                                                               paddle.static.Executor(paddle.CPUPlace()))
        data = [op for op in program.global_block().ops if op.name() == "pd_op.data"]
        assert feeds == ["x"] and len(data) == 1
        return list(data[0].result(0).shape)
    finally:
        paddle.disable_static()


def read_yml(folder):
    with open(os.path.join(folder, "inference.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_export_writes_a_paddlex_model_dir(exported):
    _, _, folder = exported
    assert {"inference.json", "inference.pdiparams", "inference.yml"} <= set(os.listdir(folder))
    assert not os.path.exists(os.path.join(folder, "inference.pdmodel"))
    assert program_input_shape(folder) == [-1, 3, 32, -1]
    yml = read_yml(folder)
    assert yml["Global"]["model_name"] == "PP-OCRv4_mobile_rec"
    ops = [next(iter(op)) for op in yml["PreProcess"]["transform_ops"]]
    assert set(ops) <= PADDLEX_OPS and "RecResizeImg" in ops
    decode = yml["PreProcess"]["transform_ops"][ops.index("DecodeImage")]["DecodeImage"]
    assert decode == {"channel_first": False, "img_mode": "BGR"}
    assert yml["PreProcess"]["transform_ops"][ops.index("RecResizeImg")]["RecResizeImg"]["image_shape"] == [3, 32, 100]
    assert yml["PostProcess"]["name"] == "CTCLabelDecode"
    assert yml["PostProcess"]["character_dict"] == list("0123456789abcdefghijklmnopqrstuvwxyz")
    assert all(isinstance(c, str) for c in yml["PostProcess"]["character_dict"])


@pytest.mark.parametrize("batch_shape", [(1, 3, 32, 17), (3, 3, 32, 333)])
def test_exported_program_matches_dygraph_with_dynamic_batch_and_width(exported, batch_shape):
    config, weights, folder = exported
    batch = np.random.default_rng(1).uniform(-1, 1, batch_shape).astype("float32")
    expected = dygraph_probs(config, weights, batch)
    got = PaddleEngine(folder, cpu_threads=1, enable_mkldnn=False)(batch)
    assert got.shape == expected.shape == (batch_shape[0], batch_shape[3] // 4, 37)
    assert np.abs(got - expected).max() <= 1e-5
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, atol=1e-5)  # softmax output


def test_input_height_comes_from_the_config(tmp_path):
    config = tiny_config(str(tmp_path), image_shape=(3, 48, 160))
    weights = random_weights(config, str(tmp_path / "model"))
    export_model(config, str(tmp_path / "inference"), weights)
    assert program_input_shape(str(tmp_path / "inference")) == [-1, 3, 48, -1]
    engine = PaddleEngine(str(tmp_path / "inference"), cpu_threads=1, enable_mkldnn=False)
    batch = np.random.default_rng(2).uniform(-1, 1, (2, 3, 48, 160)).astype("float32")
    assert np.abs(engine(batch) - dygraph_probs(config, weights, batch)).max() <= 1e-5
    assert InferenceConfig.load(str(tmp_path / "inference")).image_shape == [3, 48, 160]


def test_legacy_export_replaces_pir_files_and_gives_the_same_numbers(exported, tmp_path):
    config, weights, pir_folder = exported
    folder = str(tmp_path / "inference")
    legacy = copy.deepcopy(config)
    export_model(legacy, folder, weights)  # PIR first, then legacy into the same folder
    legacy["Global"]["export_with_pir"] = False
    export_model(legacy, folder, weights)
    assert os.path.isfile(os.path.join(folder, "inference.pdmodel"))
    assert not os.path.exists(os.path.join(folder, "inference.json")), "a stale .json would shadow the .pdmodel"
    batch = np.random.default_rng(3).uniform(-1, 1, (2, 3, 32, 120)).astype("float32")
    got = PaddleEngine(folder, cpu_threads=1, enable_mkldnn=False)(batch)
    assert np.abs(got - dygraph_probs(config, weights, batch)).max() <= 1e-5


@pytest.mark.parametrize("lines, use_space, num_classes, written", [
    (["a", "b", "c"], False, 4, ["a", "b", "c"]),
    (["a", "b", "c"], True, 5, ["a", "b", "c"]),
    (["a", " ", "b"], False, 4, ["a", " ", "b"]),
    (["a", "b", " "], True, 5, ["a", "b", " "]),  # file ends with a space line, plus use_space_char
])
def test_character_dict_survives_paddlex_appending_a_space(tmp_path, lines, use_space, num_classes, written):
    dict_path = tmp_path / "dict.txt"
    dict_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    config = tiny_config(str(tmp_path), character_dict_path=str(dict_path), use_space_char=use_space)
    charset = CharacterSet.from_config(config["Global"])
    assert charset.num_classes == num_classes
    yml = InferenceConfig.from_training_config(config).to_dict()
    assert yml["PostProcess"]["character_dict"] == written
    paddlex_classes = ["blank"] + yml["PostProcess"]["character_dict"] + [" "]
    assert paddlex_classes[:num_classes] == charset.characters


def test_model_name_and_img_mode_are_configurable(tmp_path):
    config = tiny_config(str(tmp_path), img_mode="RGB", model_name="en_PP-OCRv4_mobile_rec")
    yml = InferenceConfig.from_training_config(config).to_dict()
    assert yml["Global"]["model_name"] == "en_PP-OCRv4_mobile_rec"
    assert yml["PreProcess"]["transform_ops"][0]["DecodeImage"]["img_mode"] == "RGB"


@pytest.mark.parametrize("change, message", [
    ({"Global": {"model_name": "MyCRNN"}}, "Global.model_name"),
    ({"img_mode": "GRAY"}, "img_mode"),
    ({"Global": {"pretrained_model": None}}, "Global.pretrained_model"),
])
def test_bad_export_settings_are_refused_by_key(tmp_path, change, message):
    config = tiny_config(str(tmp_path), img_mode=change.get("img_mode", "BGR"))
    config["Global"].update(change.get("Global", {}))
    if "pretrained_model" not in change.get("Global", {}):
        config["Global"]["pretrained_model"] = random_weights(config, str(tmp_path / "model"))
    with pytest.raises(ConfigError, match=message):
        export_model(config, str(tmp_path / "inference"))
    assert not os.path.exists(tmp_path / "inference")


@pytest.mark.parametrize("trained_with, exported_with, message", [
    ({}, {"character_dict_path": "dict"}, r"predict 37 classes but the config's dictionary gives 4 classes"),
    ({"hidden_size": 16}, {"hidden_size": 24}, r"hidden_size 16, Architecture.Neck.hidden_size is 24"),
    ({"scale": 0.35}, {"scale": 0.5}, r"Architecture.Backbone"),
])
def test_weights_that_do_not_fit_the_config_are_refused(tmp_path, trained_with, exported_with, message):
    (tmp_path / "dict").write_text("a\nb\nc\n", encoding="utf-8")
    options = {"hidden_size": 16, "scale": 0.35}
    weights = random_weights(tiny_config(str(tmp_path), **{**options, **trained_with}), str(tmp_path / "model"))
    global_options = {"character_dict_path": str(tmp_path / "dict")} if "character_dict_path" in exported_with else {}
    config = tiny_config(str(tmp_path), **{**options, **{k: v for k, v in exported_with.items()
                                                         if k != "character_dict_path"}}, **global_options)
    with pytest.raises(ConfigError, match=message) as error:
        export_model(config, str(tmp_path / "inference"), weights)
    assert "model.pdparams" in str(error.value)
    assert not os.path.exists(tmp_path / "inference" / "inference.json")


def test_export_model_cli(tmp_path):
    main = load_tool("export_model").main
    config_path = write_config(tiny_config(str(tmp_path)), str(tmp_path / "rec.yml"))
    weights = random_weights(tiny_config(str(tmp_path)), str(tmp_path / "best_accuracy"))
    out = tmp_path / "inference"
    assert main(["-c", config_path, "-o", f"Global.pretrained_model={weights[:-len('.pdparams')]}",
                 f"Global.save_inference_dir={out}", "Global.export_with_pir=false"]) == 0
    assert (out / "inference.pdmodel").is_file() and (out / "inference.yml").is_file()
    assert main(["-c", config_path, "-o", "Global.pretrained_model=" + str(tmp_path / "missing"),
                 f"Global.save_inference_dir={out}"]) == 1


def test_onnx_matches_paddle(exported, tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("paddle2onnx")
    pytest.importorskip("onnxruntime")
    main = load_tool("export_onnx").main
    _, _, folder = exported
    assert main(["--model_dir", folder, "--save_file", str(tmp_path / "model.onnx")]) == 0
    model = onnx.load(str(tmp_path / "model.onnx"))
    assert max(op.version for op in model.opset_import if op.domain in ("", "ai.onnx")) >= 14
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert isinstance(dims[0], str) and dims[1:3] == [3, 32] and isinstance(dims[3], str)
    onnx_file = export_onnx(folder)
    assert onnx_file == os.path.join(folder, "inference.onnx")
    paddle_engine = PaddleEngine(folder, cpu_threads=1, enable_mkldnn=False)
    onnx_engine = OnnxEngine(folder, cpu_threads=1)
    for shape in [(1, 3, 32, 9), (4, 3, 32, 257)]:
        batch = np.random.default_rng(4).uniform(-1, 1, shape).astype("float32")
        assert np.abs(onnx_engine(batch) - paddle_engine(batch)).max() <= 1e-5
    with pytest.raises(ValueError, match="opset_version"):
        export_onnx(folder, opset_version=11)
