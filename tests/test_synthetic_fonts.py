"""The font packages the English recipe draws with: installed by requirements.txt, screened, balanced."""
import importlib.metadata
import os
import re
import shutil
import string
from pathlib import Path

import pytest
import yaml

from ppcrnn.data.datasets.synthetic.fonts import FontLibrary, family_key, package_font_dirs
from ppcrnn.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
LATIN = string.digits + string.ascii_letters


def named_font_packages():
    """Every `font_packages` entry of the shipped configs and the packaged models' configs."""
    names = set()
    for config in list(ROOT.glob("configs/*.yml")) + list(ROOT.glob("ppcrnn/models/*/config.yml")):
        datasets = yaml.safe_load(config.read_text())["Train"]["dataset"]
        for dataset in datasets.get("datasets", [datasets]):
            names.update(dataset.get("font_packages") or [])
    return names


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_font_package_a_config_names_is_installed_by_requirements():
    names = named_font_packages()
    assert {"font_roboto", "rendercv_fonts", "font_fjallaone"} <= names
    required = {canonical(re.split(r"[<>=!~;\s]", line, maxsplit=1)[0])
                for line in (ROOT / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    distributions = importlib.metadata.packages_distributions()
    missing = [name for name in sorted(names)
               if not {canonical(d) for d in distributions.get(name, [name])} & required]
    assert not missing, f"font packages named in configs but not in requirements.txt: {missing}"


def package_files(package: str):
    return [os.path.join(root, name) for folder in package_font_dirs([package])
            for root, _, names in os.walk(folder) for name in names
            if name.lower().endswith((".ttf", ".otf"))]


def library(*packages: str) -> FontLibrary:
    return FontLibrary(LATIN, eval_font_fraction=0.0, font_packages=packages, use_system_fonts=False,
                       use_default_font=False, balance_families=True)


def test_icon_fonts_and_illegible_display_faces_are_left_out():
    pytest.importorskip("rendercv_fonts")
    pytest.importorskip("deckr_fonts")
    shipped = [os.path.basename(p) for p in package_files("rendercv_fonts") + package_files("deckr_fonts")]
    unwanted = re.compile(r"Awesome|Monofett|Sixtyfour|Emoji")
    assert len([name for name in shipped if unwanted.search(name)]) >= 5  # the packages do ship them
    used = [os.path.basename(p) for p in library("rendercv_fonts", "deckr_fonts").paths]
    assert not [name for name in used if unwanted.search(name)]
    assert {"EBGaramond-Regular.ttf", "Audiowide-Regular.ttf"} <= set(used)


def test_regional_cjk_cuts_join_their_latin_family_when_balancing():
    pytest.importorskip("rendercv_fonts")
    fonts = library("rendercv_fonts")
    groups = {family_key(group[0][0]): {os.path.basename(path) for path, _ in group}
              for group in fonts.families}
    assert len(groups) == len(fonts.families)  # one group per folded family name
    assert {"NotoSans-Regular.ttf", "NotoSansJP-Regular.ttf", "NotoSansSC-Regular.ttf"} <= groups["Noto Sans"]
    assert not [name for name in groups if re.search(r" (JP|KR|SC|TC)$", name)]


def test_a_font_package_without_a_usable_font_file_is_a_config_error(tmp_path, monkeypatch):
    source = package_files("fontpkg_pacifico")[0]
    for package, file_name in (("only_icons_xyz", "IconsEmoji.ttf"), ("one_face_xyz", "Face.ttf")):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        shutil.copy(source, tmp_path / package / file_name)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert package_font_dirs(["one_face_xyz"]) == [str(tmp_path / "one_face_xyz")]
    # json is a package but holds no font; the emoji-named file is one EXCLUDED leaves out
    with pytest.raises(ConfigError, match=r"no \.ttf/\.otf/\.ttc font file in: json, only_icons_xyz$"):
        package_font_dirs(["one_face_xyz", "json", "only_icons_xyz"])


def test_the_english_recipe_draws_connected_scripts_and_every_package_adds_faces():
    config = yaml.safe_load((ROOT / "configs/rec_en.yml").read_text())
    packages = config["Train"]["dataset"]["datasets"][0]["font_packages"]
    families = {family_key(path) for path in library(*packages).paths}
    assert {"Pacifico", "Great Vibes", "Dancing Script", "Lobster", "Yellowtail"} <= families
    for package in packages:  # each package draws at least one face with every letter and digit
        assert library(package).paths, package


def test_no_config_trains_on_the_families_kept_for_validation():
    kept = {canonical(line.split("==")[0]).removeprefix("fontpkg-")
            for line in (ROOT / "bench/validation_fonts.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")}
    assert len(kept) == 17 and "lora" in kept
    named = {canonical(name).removeprefix("fontpkg-") for name in named_font_packages()}
    assert not kept & named
    config = yaml.safe_load((ROOT / "configs/rec_en.yml").read_text())
    packages = config["Train"]["dataset"]["datasets"][0]["font_packages"]
    # nor under another package's name (rendercv-fonts alone ships eight families)
    drawn = {canonical(family_key(path).replace(" ", "-")) for path in library(*packages).paths}
    assert "pacifico" in drawn and not kept & drawn
