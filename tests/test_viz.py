"""Cell drawings: valid SVG and PNG files for NB201 and NASNet cells, with every op labelled."""
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from autodl.spaces.nasnet import GENOTYPE_OPS, GENOTYPES, get_genotype
from autodl.spaces.nb201 import SpaceError
from autodl.viz import DrawingError, draw_cell, layout_cell

NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(path):
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    return root, [element.text for element in root.iter(SVG + "text")]


def test_nb201_edges_follow_the_arch():
    edges = [(e.source, e.target, e.label) for e in layout_cell(NB201_ARCH).edges]
    assert edges == [("0", "1", "nor_conv_3x3"), ("0", "2", "nor_conv_3x3"), ("1", "2", "avg_pool_3x3"),
                     ("0", "3", "skip_connect"), ("2", "3", "skip_connect")]  # 'none' edges are not drawn


@pytest.mark.parametrize("bad", ["nor_conv_3x3~0", "|nor_conv_3x3~1|", "|nor_conv_3x3|", "|~0|"])
def test_malformed_nb201_strings(bad, tmp_path):
    with pytest.raises(SpaceError):
        draw_cell(bad, tmp_path / "cell.svg")


def test_nb201_svg(tmp_path):
    path = draw_cell(NB201_ARCH, tmp_path / "cell.svg")
    root, texts = svg_texts(path)
    assert texts[0] == "NAS-Bench-201 cell"
    assert sorted(t for t in texts[1:] if "_" in t) == ["avg_pool_3x3", "nor_conv_3x3", "nor_conv_3x3",
                                                        "skip_connect", "skip_connect"]  # 'none' left out
    assert {"0 (input)", "1", "2", "3 (output)"} <= set(texts)
    assert len(root.findall(f"{SVG}path")) == 5
    assert float(root.get("width")) > 600 and float(root.get("height")) > 100


@pytest.mark.parametrize("name", ["DARTS_V2", "NASNet"])
@pytest.mark.parametrize("cell", ["normal", "reduce"])
def test_nasnet_svg_labels_every_op(tmp_path, name, cell):
    genotype = get_genotype(name)
    nodes, concat = genotype.cell(cell == "reduce")
    root, texts = svg_texts(draw_cell(genotype, tmp_path / "cell.svg", cell=cell, title=f"{name} {cell}"))
    assert texts[0] == f"{name} {cell}"
    ops = sorted(op for node in nodes for op, _ in node)
    assert sorted(t for t in texts if t in GENOTYPE_OPS) == ops
    assert {"c_{k-2}", "c_{k-1}", "c_{k}"} <= set(texts)
    assert len(root.findall(f"{SVG}path")) == len(ops) + len(concat)


def test_png_is_readable(tmp_path):
    for index, (arch, cell) in enumerate([(NB201_ARCH, "normal"), (get_genotype("GDAS_V1"), "reduce")]):
        path = draw_cell(arch, tmp_path / f"cell{index}.png", cell=cell)
        image = cv2.imread(str(path))
        assert image is not None and image.dtype == np.uint8
        height, width, _ = image.shape
        assert 150 < height < 2000 and 600 < width < 4000 and width > height
        dark = (image.min(axis=2) < 128).mean()
        assert 0.005 < dark < 0.3  # something is drawn, and the background stays white


def test_every_published_genotype_lays_out():
    for name in GENOTYPES:
        for cell in ("normal", "reduce"):
            nodes, concat = get_genotype(name).cell(cell == "reduce")
            drawing = layout_cell(get_genotype(name), cell)
            assert len(drawing.nodes) == len(nodes) + 3
            assert len(drawing.edges) == sum(len(node) for node in nodes) + len(concat)


def test_bad_requests(tmp_path):
    with pytest.raises(DrawingError, match="unknown file type '.jpg'"):
        draw_cell(NB201_ARCH, tmp_path / "cell.jpg")
    with pytest.raises(DrawingError, match="cell='both' is invalid"):
        draw_cell(get_genotype("DARTS"), tmp_path / "cell.svg", cell="both")
    assert list(tmp_path.iterdir()) == []


def test_archs_and_genotypes_render_inline_in_notebooks():
    from autodl.spaces.nb201 import Arch

    for value, title in ((Arch.from_str(NB201_ARCH), "NAS-Bench-201 cell"), (get_genotype("DARTS_V2"), None)):
        root = ET.fromstring(value._repr_svg_())
        assert root.tag == SVG + "svg"
        texts = [element.text for element in root.iter(SVG + "text")]
        assert title is None or texts[0] == title
        assert len(texts) > 4
