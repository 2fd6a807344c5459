"""Helpers for the training tests: a tiny rendered word set on disk and a tiny config for it."""
import os
import random

import cv2
import numpy as np

CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def render_word_set(folder, count: int, seed: int) -> str:
    """`count` word images drawn with OpenCV's Hershey font, PaddleOCR label-file layout
    (`folder/labels.txt` lines `images/i.png<TAB>word`); returns the label file path."""
    rng = random.Random(seed)
    os.makedirs(os.path.join(folder, "images"), exist_ok=True)
    lines = []
    for index in range(count):
        word = "".join(rng.choice(CHARS) for _ in range(rng.randint(2, 5)))
        image = np.full((32, 20 * len(word) + 8, 3), 255, dtype=np.uint8)
        cv2.putText(image, word, (4, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
        name = f"images/{index}.png"
        cv2.imwrite(os.path.join(folder, name), image)
        lines.append(f"{name}\t{word}\n")
    path = os.path.join(folder, "labels.txt")
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
    return path


TRANSFORMS = [
    {"DecodeImage": {"img_mode": "BGR", "channel_first": False}},
    {"CTCLabelEncode": None},
    {"RecResizeImg": {"image_shape": [3, 32, 100]}},
    {"KeepKeys": {"keep_keys": ["image", "label", "length"]}},
]


def tiny_config(train_dir, eval_dir, save_dir, epochs: int = 2, batch_size: int = 8) -> dict:
    """A config small enough to train a few steps in seconds on a CPU."""
    return {
        "Global": {"use_gpu": False, "epoch_num": epochs, "log_smooth_window": 5, "print_batch_step": 2,
                   "save_model_dir": str(save_dir), "save_epoch_step": 1, "eval_batch_step": [0, 4],
                   "cal_metric_during_train": True, "seed": 7, "max_text_length": 25,
                   "character_dict_path": None, "use_space_char": False,
                   "save_res_path": os.path.join(str(save_dir), "predicts.txt")},
        "Optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.999,
                      "lr": {"name": "Cosine", "learning_rate": 0.002, "warmup_epoch": 0.5},
                      "regularizer": {"name": "L2", "factor": 1e-5}},
        "Architecture": {"model_type": "rec", "algorithm": "CRNN",
                         "Backbone": {"name": "MobileNetV3", "scale": 0.35, "model_name": "small"},
                         "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 16},
                         "Head": {"name": "CTCHead", "fc_decay": 0.0}},
        "Loss": {"name": "CTCLoss"},
        "PostProcess": {"name": "CTCLabelDecode"},
        "Metric": {"name": "RecMetric", "main_indicator": "acc"},
        "Train": {"dataset": {"name": "SimpleDataSet", "data_dir": str(train_dir),
                              "label_file_list": [os.path.join(str(train_dir), "labels.txt")],
                              "transforms": TRANSFORMS},
                  "loader": {"shuffle": True, "batch_size_per_card": batch_size, "drop_last": True,
                             "num_workers": 0}},
        "Eval": {"dataset": {"name": "SimpleDataSet", "data_dir": str(eval_dir),
                             "label_file_list": [os.path.join(str(eval_dir), "labels.txt")],
                             "transforms": TRANSFORMS},
                 "loader": {"shuffle": False, "batch_size_per_card": 8, "drop_last": False, "num_workers": 0}},
    }
