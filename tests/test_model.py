"""The model components against reference §2 (layer tables, activations, residual rule, neck,
head) and the shipped config against §1.1."""
import math
import re
import os

import numpy as np
import paddle
import pytest
import yaml

import ppcrnn
from ppcrnn.errors import ConfigError
from ppcrnn.modeling.backbones.mobilenet_v3 import MobileNetV3
from ppcrnn.modeling.common import SEModule, make_divisible
from ppcrnn.modeling.heads.ctc_head import CTCHead
from ppcrnn.modeling.necks.sequence_encoder import SequenceEncoder

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Reference §2.2: per block (kernel, in, mid, out, SE channels or 0, act, downsamples, residual).
R, H = "relu", "hardswish"
TABLES = {
    ("large", 0.5): (8, 480, [
        (3, 8, 8, 8, 0, R, 0, 1), (3, 8, 32, 16, 0, R, 1, 0), (3, 16, 40, 16, 0, R, 0, 1),
        (5, 16, 40, 24, 10, R, 1, 0), (5, 24, 64, 24, 16, R, 0, 1), (5, 24, 64, 24, 16, R, 0, 1),
        (3, 24, 120, 40, 0, H, 0, 0), (3, 40, 104, 40, 0, H, 0, 1), (3, 40, 96, 40, 0, H, 0, 1),
        (3, 40, 96, 40, 0, H, 0, 1), (3, 40, 240, 56, 60, H, 0, 0), (3, 56, 336, 56, 84, H, 0, 1),
        (5, 56, 336, 80, 84, H, 1, 0), (5, 80, 480, 80, 120, H, 0, 1), (5, 80, 480, 80, 120, H, 0, 1)]),
    ("large", 1.0): (16, 960, [
        (3, 16, 16, 16, 0, R, 0, 1), (3, 16, 64, 24, 0, R, 1, 0), (3, 24, 72, 24, 0, R, 0, 1),
        (5, 24, 72, 40, 18, R, 1, 0), (5, 40, 120, 40, 30, R, 0, 1), (5, 40, 120, 40, 30, R, 0, 1),
        (3, 40, 240, 80, 0, H, 0, 0), (3, 80, 200, 80, 0, H, 0, 1), (3, 80, 184, 80, 0, H, 0, 1),
        (3, 80, 184, 80, 0, H, 0, 1), (3, 80, 480, 112, 120, H, 0, 0), (3, 112, 672, 112, 168, H, 0, 1),
        (5, 112, 672, 160, 168, H, 1, 0), (5, 160, 960, 160, 240, H, 0, 1), (5, 160, 960, 160, 240, H, 0, 1)]),
    ("small", 0.5): (8, 288, [
        (3, 8, 8, 8, 2, R, 1, 0), (3, 8, 40, 16, 0, R, 1, 0), (3, 16, 48, 16, 0, R, 0, 1),
        (5, 16, 48, 24, 12, H, 1, 0), (5, 24, 120, 24, 30, H, 0, 1), (5, 24, 120, 24, 30, H, 0, 1),
        (5, 24, 64, 24, 16, H, 0, 1), (5, 24, 72, 24, 18, H, 0, 1), (5, 24, 144, 48, 36, H, 1, 0),
        (5, 48, 288, 48, 72, H, 0, 1), (5, 48, 288, 48, 72, H, 0, 1)]),
    ("small", 1.0): (16, 576, [
        (3, 16, 16, 16, 4, R, 1, 0), (3, 16, 72, 24, 0, R, 1, 0), (3, 24, 88, 24, 0, R, 0, 1),
        (5, 24, 96, 40, 24, H, 1, 0), (5, 40, 240, 40, 60, H, 0, 1), (5, 40, 240, 40, 60, H, 0, 1),
        (5, 40, 120, 48, 30, H, 0, 0), (5, 48, 144, 48, 36, H, 0, 1), (5, 48, 288, 96, 72, H, 1, 0),
        (5, 96, 576, 96, 144, H, 0, 1), (5, 96, 576, 96, 144, H, 0, 1)]),
}


def test_make_divisible():
    assert [make_divisible(v) for v in (4, 8, 12, 20, 36, 60, 92, 100)] == [8, 8, 16, 24, 40, 64, 96, 104]
    assert make_divisible(0.35 * 16) == 8 and make_divisible(0.35 * 960) == 336


@pytest.mark.parametrize("variant", sorted(TABLES), ids=lambda v: f"{v[0]}_x{v[1]}")
def test_backbone_layer_table(variant):
    first, last, table = TABLES[variant]
    backbone = MobileNetV3(model_name=variant[0], scale=variant[1])
    assert list(backbone.conv1.conv.weight.shape) == [first, 3, 3, 3]
    assert backbone.conv1.conv._stride == [2, 2] and backbone.conv1.act == H
    assert len(backbone.blocks) == len(table)
    for block, (kernel, cin, mid, out, se, act, down, res) in zip(backbone.blocks, table):
        assert list(block.expand_conv.conv.weight.shape) == [mid, cin, 1, 1]
        assert list(block.bottleneck_conv.conv.weight.shape) == [mid, 1, kernel, kernel]
        assert list(block.linear_conv.conv.weight.shape) == [out, mid, 1, 1]
        assert block.expand_conv.act == block.bottleneck_conv.act == act
        assert not block.linear_conv.if_act
        assert block.if_se == bool(se)
        if se:
            assert list(block.mid_se.conv1.weight.shape) == [se, mid, 1, 1]
        # only the height is ever downsampled inside the blocks
        assert block.bottleneck_conv.conv._stride == ([2, 1] if down else [1, 1])
        assert block.if_shortcut == bool(res)
    assert list(backbone.conv2.conv.weight.shape) == [last, table[-1][3], 1, 1]
    assert backbone.out_channels == last


def test_backbone_defaults_and_options():
    assert MobileNetV3().out_channels == 288  # class default is small x0.5, as in PaddleOCR
    no_se = MobileNetV3(model_name="large", disable_se=True)
    assert not any("mid_se" in key for key in no_se.state_dict())
    features = MobileNetV3(model_name="large", scale=0.35, in_channels=1)(paddle.rand([1, 1, 32, 64]))
    assert list(features.shape) == [1, make_divisible(0.35 * 960), 1, 16]


def test_tuple_unit_stride_gets_no_shortcut():
    # small_stride[0] = 1 makes block 0 stride (1, 1) with in == out; PaddleOCR's `stride == 1`
    # is False for a tuple, so there is no residual connection.
    backbone = MobileNetV3(model_name="small", scale=0.5, small_stride=[1, 2, 2, 2])
    block = backbone.blocks[0]
    assert block.bottleneck_conv.conv._stride == [1, 1]
    assert block.expand_conv.conv.weight.shape[1] == block.linear_conv.conv.weight.shape[0]
    assert not block.if_shortcut
    # large block 0 uses the plain int large_stride[0]
    assert MobileNetV3(model_name="large").blocks[0].if_shortcut


def test_residual_unit_adds_input():
    block = MobileNetV3(model_name="large").blocks[2]
    x = paddle.rand([1, 16, 8, 10])
    block.eval()
    branch = block.linear_conv(block.bottleneck_conv(block.expand_conv(x)))
    np.testing.assert_allclose(block(x).numpy(), (x + branch).numpy(), atol=1e-6)


def test_se_gate_is_hardsigmoid_slope_0_2():
    se = SEModule(8)
    biases = np.array([-5, -2.5, -1, 0, 0.5, 1, 2.5, 5], dtype="float32")
    se.conv2.weight.set_value(np.zeros(se.conv2.weight.shape, "float32"))
    se.conv2.bias.set_value(biases)
    gate = se(paddle.ones([1, 8, 3, 3])).numpy()[0, :, 0, 0]
    np.testing.assert_allclose(gate, np.clip(0.2 * biases + 0.5, 0, 1), atol=1e-6)


@pytest.mark.parametrize("option, value, key", [
    ("scale", 0.6, "Architecture.Backbone.scale"),
    ("model_name", "medium", "Architecture.Backbone.model_name"),
    ("large_stride", [1, 2, 2], "Architecture.Backbone.large_stride"),
    ("small_stride", [2, 2, "2", 2], "Architecture.Backbone.small_stride"),
    ("scale", "big", "Architecture.Backbone.scale"),
    ("dropout", 0.1, "Architecture.Backbone.dropout"),
])
def test_backbone_option_errors_name_the_key(option, value, key):
    architecture = {"Backbone": {"name": "MobileNetV3", "model_name": "large", option: value},
                    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn"},
                    "Head": {"name": "CTCHead", "out_channels": 5}}
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        ppcrnn.build_model(architecture)


@pytest.mark.parametrize("encoder_type, hidden, out", [("reshape", 7, 40), ("fc", 7, 7), ("rnn", 7, 14)])
def test_sequence_encoder(encoder_type, hidden, out):
    neck = SequenceEncoder(in_channels=40, encoder_type=encoder_type, hidden_size=hidden)
    assert neck.out_channels == out
    assert hasattr(neck, "encoder") == (encoder_type != "reshape")
    features = paddle.rand([2, 40, 1, 9])
    sequence = neck(features)
    assert list(sequence.shape) == [2, 9, out]
    if encoder_type == "reshape":  # step t is feature column t
        np.testing.assert_array_equal(sequence.numpy()[:, 3, :], features.numpy()[:, :, 0, 3])
    if encoder_type == "rnn":
        lstm = neck.encoder.lstm
        assert isinstance(lstm, paddle.nn.LSTM) and lstm.num_layers == 2 and lstm.num_directions == 2
    if encoder_type == "fc":
        assert isinstance(neck.encoder.fc, paddle.nn.Linear)


def test_sequence_encoder_defaults_and_errors():
    assert SequenceEncoder(in_channels=40, encoder_type="rnn").out_channels == 96  # hidden 48
    with pytest.raises(ConfigError, match=r"Architecture\.Neck\.encoder_type"):
        SequenceEncoder(in_channels=40, encoder_type="transformer")
    with pytest.raises(AssertionError, match="height 1"):
        SequenceEncoder(in_channels=4, encoder_type="reshape")(paddle.rand([1, 4, 2, 5]))


def test_ctc_head_modes():
    head = CTCHead(in_channels=16, out_channels=6)
    x = paddle.rand([2, 5, 16])
    head.train()
    logits = head(x)
    head.eval()
    probs = head(x)
    assert list(logits.shape) == list(probs.shape) == [2, 5, 6]
    assert np.abs(logits.numpy().sum(axis=2) - 1).max() > 1e-3  # training: raw logits
    np.testing.assert_allclose(probs.numpy(), paddle.nn.functional.softmax(logits, axis=2).numpy(), atol=1e-6)

    feats_head = CTCHead(in_channels=16, out_channels=6, mid_channels=8, return_feats=True)
    assert sorted(feats_head.state_dict()) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    assert list(feats_head.fc2.weight.shape) == [8, 6]
    feats_head.train()
    features, logits = feats_head(x)
    assert list(features.shape) == [2, 5, 8] and list(logits.shape) == [2, 5, 6]
    feats_head.eval()
    assert list(feats_head(x).shape) == [2, 5, 6]  # eval returns only the probabilities


def test_ctc_head_init_and_decay():
    head = CTCHead(in_channels=192, out_channels=97, fc_decay=0.001)
    bound = 1 / math.sqrt(192)
    for param in (head.fc.weight, head.fc.bias):
        values = np.abs(param.numpy())
        assert values.max() <= bound and values.max() > 0.9 * bound  # U(-b, b), not the default init
        assert isinstance(param.regularizer, paddle.regularizer.L2Decay)
        assert param.regularizer._coeff == pytest.approx(0.001)  # no public accessor


def test_auto_parameter_names_follow_creation_order():
    """Optimizer files (.pdopt) are keyed by auto names; they must come from the same layer
    classes in the same order as PaddleOCR's (conv2d_N, batch_norm_N, lstm_cell_N, linear_N)."""
    with paddle.utils.unique_name.guard():
        model = ppcrnn.build_model({"Backbone": {"name": "MobileNetV3", "model_name": "large"},
                                    "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn"},
                                    "Head": {"name": "CTCHead", "out_channels": 37}})
    counters, expected, seen = {}, {}, set()
    for key, param in model.state_dict().items():
        if id(param) in seen:  # LSTM aliases
            continue
        seen.add(id(param))
        layer = key.rsplit(".", 1)[0]
        if "lstm" in key:  # flat names come first: weight_ih_l{layer}[_reverse] -> one cell each
            layer = re.sub(r"^(weight|bias)_(ih|hh)_", "", key.rsplit(".", 1)[1])
        kind = ("batch_norm" if key.split(".")[-2] == "bn" else "lstm_cell" if "lstm" in key
                else "linear" if key.startswith("head") else "conv2d")
        if layer not in expected:
            expected[layer] = f"{kind}_{counters.get(kind, 0)}"
            counters[kind] = counters.get(kind, 0) + 1
        assert param.name.split(".")[0] == expected[layer], key
    assert counters == {"conv2d": 63, "batch_norm": 47, "lstm_cell": 4, "linear": 1}
    assert model.state_dict()["backbone.conv1.bn._variance"].name == "batch_norm_0.w_2"


def test_to_static_with_dynamic_width():
    model = ppcrnn.build_model({"Backbone": {"name": "MobileNetV3", "model_name": "small", "scale": 0.35},
                                "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 8},
                                "Head": {"name": "CTCHead", "out_channels": 5}})
    model.eval()
    spec = paddle.static.InputSpec([None, 3, 32, None], "float32", "x")
    static_model = paddle.jit.to_static(model, input_spec=[spec], full_graph=True)
    for width in (64, 100):
        images = paddle.rand([2, 3, 32, width])
        np.testing.assert_allclose(static_model(images).numpy(), model(images).numpy(), atol=1e-5)


# Reference §1.1, transcribed.
REFERENCE_CONFIG_PARTS = {
    "Optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.999, "lr": {"learning_rate": 0.0005},
                  "regularizer": {"name": "L2", "factor": 0}},
    "Architecture": {"model_type": "rec", "algorithm": "CRNN", "Transform": None,
                     "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "large"},
                     "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 96},
                     "Head": {"name": "CTCHead", "fc_decay": 0}},
    "Loss": {"name": "CTCLoss"}, "PostProcess": {"name": "CTCLabelDecode"},
    "Metric": {"name": "RecMetric", "main_indicator": "acc"},
}
REFERENCE_GLOBAL = {
    "use_gpu": True, "epoch_num": 72, "log_smooth_window": 20, "print_batch_step": 10,
    "save_model_dir": "./output/rec/mv3_none_bilstm_ctc/", "save_epoch_step": 3, "eval_batch_step": [0, 2000],
    "cal_metric_during_train": True, "pretrained_model": None, "checkpoints": None, "save_inference_dir": None,
    "use_visualdl": False, "infer_img": "doc/imgs_words_en/word_10.png", "character_dict_path": None,
    "max_text_length": 25, "infer_mode": False, "use_space_char": False,
    "save_res_path": "./output/rec/predicts_mv3_none_bilstm_ctc.txt",
}
TRANSFORMS = [{"DecodeImage": {"img_mode": "BGR", "channel_first": False}}, {"CTCLabelEncode": None},
              {"RecResizeImg": {"image_shape": [3, 32, 100]}},
              {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]
LOADERS = {"Train": {"shuffle": False, "batch_size_per_card": 256, "drop_last": True, "num_workers": 8},
           "Eval": {"shuffle": False, "drop_last": False, "batch_size_per_card": 256, "num_workers": 4}}
CONFIG = os.path.join(REPO, "configs", "rec_mv3_none_bilstm_ctc.yml")


def test_config_matches_reference():
    with open(CONFIG, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    for section, expected in REFERENCE_CONFIG_PARTS.items():
        assert config[section] == expected, section
    assert config["Global"] == REFERENCE_GLOBAL
    assert sorted(config) == sorted(["Global", "Train", "Eval", *REFERENCE_CONFIG_PARTS])
    for split, folder in (("Train", "training"), ("Eval", "validation")):
        assert config[split]["dataset"] == {"name": "LMDBDataSet", "transforms": TRANSFORMS,
                                            "data_dir": f"./train_data/data_lmdb_release/{folder}/"}
        assert config[split]["loader"] == LOADERS[split]
    architecture = dict(config["Architecture"], Head=dict(config["Architecture"]["Head"], out_channels=37))
    assert len(ppcrnn.build_model(architecture).state_dict()) == 301


def test_config_loads_through_load_config():
    from ppcrnn import registry
    from ppcrnn.config import load_config
    try:
        import ppcrnn.data  # noqa: F401  (registers LMDBDataSet and the transforms)
    except ImportError:
        pass
    if "LMDBDataSet" not in registry.DATASETS:
        pytest.skip("LMDBDataSet is not registered yet (ppcrnn.data)")
    config = load_config(CONFIG)
    assert config["Architecture"]["Backbone"] == REFERENCE_CONFIG_PARTS["Architecture"]["Backbone"]
