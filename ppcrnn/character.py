"""Character sets: the mapping between text and CTC class indices, with PaddleOCR's rules.

Index 0 is the CTC blank. Without a dictionary file the set is 0-9a-z (37 classes) and labels are
lower-cased; with one, each line of the UTF-8 file is one character (CRLF tolerated, a line holding
a single space stays a space) and `use_space_char` appends a space class."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

from .errors import ConfigError

DEFAULT_CHARACTERS = "0123456789abcdefghijklmnopqrstuvwxyz"
BLANK = "blank"


def read_dictionary(path: str) -> List[str]:
    """Characters of a dictionary file, in file order (duplicates kept, as PaddleOCR does)."""
    if not os.path.isfile(path):
        raise ConfigError(f"Global.character_dict_path: file not found: {path}")
    with open(path, "rb") as handle:
        raw_lines = handle.read().split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    characters = []
    for number, raw in enumerate(raw_lines, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not valid UTF-8 ({exc})") from None
        characters.append(line.rstrip("\r"))
    if not characters:
        raise ConfigError(f"{path}: the dictionary file is empty")
    return characters


class CharacterSet:
    """Class list `["blank", c1, c2, ...]` plus the text → indices encoding."""

    def __init__(self, character_dict_path: Optional[str] = None, use_space_char: bool = False):
        self.dict_path = character_dict_path or None
        if self.dict_path is None:
            chars = list(DEFAULT_CHARACTERS)
            self.lower = True
        else:
            chars = read_dictionary(self.dict_path)
            if use_space_char:
                chars.append(" ")
            self.lower = False
        self.use_space_char = bool(use_space_char) and self.dict_path is not None
        self.characters: List[str] = [BLANK] + chars
        # Later duplicates win, as in PaddleOCR's encoder dict.
        self.index = {char: i for i, char in enumerate(self.characters) if i > 0}

    @classmethod
    def from_config(cls, global_config: dict) -> "CharacterSet":
        return cls(global_config.get("character_dict_path"), bool(global_config.get("use_space_char", False)))

    @classmethod
    def from_characters(cls, chars: Sequence[str]) -> "CharacterSet":
        """A set from an explicit character list (no blank), e.g. an inference.yml's character_dict."""
        charset = cls.__new__(cls)
        charset.dict_path, charset.lower, charset.use_space_char = None, False, False
        charset.characters = [BLANK] + list(chars)
        charset.index = {char: i for i, char in enumerate(charset.characters) if i > 0}
        return charset

    @property
    def num_classes(self) -> int:
        return len(self.characters)

    def normalise(self, text: str) -> str:
        return text.lower() if self.lower else text

    def encode(self, text: str) -> Tuple[List[int], str]:
        """Indices of the characters of `text` that are in the set, and the dropped characters."""
        text = self.normalise(text)
        indices, dropped = [], []
        for char in text:
            if char in self.index:
                indices.append(self.index[char])
            else:
                dropped.append(char)
        return indices, "".join(dropped)

    def decode_indices(self, indices: Sequence[int]) -> str:
        return "".join(self.characters[i] for i in indices)
