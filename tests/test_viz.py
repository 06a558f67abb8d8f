"""Cell drawings: valid SVG and PNG files for NB201 and NASNet cells, with every op labelled."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

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


def svg_titles(svg):
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return [element.text for element in root.iter(SVG + "text")]


def test_show_gives_notebooks_an_inline_drawing():
    from autodl.spaces.nb201 import Arch
    from autodl.viz import show

    texts = svg_titles(show(Arch.from_str(NB201_ARCH))._repr_svg_())
    assert texts[0] == "NAS-Bench-201 cell" and len(texts) > 4
    drawing = show(get_genotype("DARTS_V2"), cell="reduce", title="DARTS_V2 reduce")
    assert svg_titles(drawing._repr_svg_())[0] == "DARTS_V2 reduce" and str(drawing) == drawing._repr_svg_()


def test_importing_viz_inside_ipython_displays_archs_as_drawings():
    pytest.importorskip("IPython")
    script = """
import sys
from autodl.spaces.nasnet import get_genotype
from autodl.spaces.nb201 import index_to_arch
import autodl.viz
assert "IPython" not in sys.modules and not autodl.viz.enable_notebook_display()  # outside IPython: nothing
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
values = [index_to_arch(1), get_genotype("DARTS_V2")]
assert all("image/svg+xml" not in shell.display_formatter.format(v)[0] for v in values)  # the spaces draw nothing
assert autodl.viz.enable_notebook_display()  # what importing autodl.viz inside IPython does
for value in values:
    print(shell.display_formatter.format(value)[0]["image/svg+xml"].split(">")[0])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [line.startswith("<svg ") for line in done.stdout.splitlines()] == [True, True]


def test_spaces_do_not_depend_on_drawing_code():
    script = ("import sys, autodl.spaces.nb201, autodl.spaces.nasnet, autodl.spaces.artifact; "
              "print(sorted(name for name in sys.modules if name.startswith('autodl.viz')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr
    spaces = Path(__file__).resolve().parents[1] / "lib" / "autodl" / "spaces"
    sources = sorted(spaces.rglob("*.py"))
    assert len(sources) >= 4 and [path.name for path in sources if "viz" in path.read_text()] == []
    from autodl.spaces.nb201 import Arch

    assert not hasattr(Arch, "_repr_svg_") and not hasattr(get_genotype("DARTS"), "_repr_svg_")


# ------------------------------------------------------------------------------ architecture history

NB201_EDGES = ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]
NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def softmax_history(epochs, edges=6, ops=5, seed=0):
    rng = np.random.default_rng(seed)
    logits = np.cumsum(rng.normal(0, 0.5, (epochs, edges, ops)), axis=0)
    probs = np.exp(logits)
    return probs / probs.sum(axis=2, keepdims=True)


def colour_pixels(image, colour):
    return np.argwhere((image == np.array(colour, np.uint8)).all(axis=2))


def test_history_png_is_readable(tmp_path):
    from autodl.viz import draw_arch_history

    path = draw_arch_history(softmax_history(20), tmp_path / "history.png", NB201_OPS, NB201_EDGES, title="GDAS")
    assert path == tmp_path / "history.png" and [p.name for p in tmp_path.iterdir()] == ["history.png"]
    image = cv2.imread(str(path))
    assert image is not None and image.dtype == np.uint8
    height, width, _ = image.shape
    assert 300 < height < 1500 and 600 < width < 2000
    dark = (image.min(axis=2) < 200).mean()
    assert 0.01 < dark < 0.5


def test_history_of_the_darts_space_and_of_one_epoch(tmp_path):
    from autodl.spaces.nasnet import GENOTYPE_OPS
    from autodl.viz import draw_arch_history, op_colours

    ops = list(GENOTYPE_OPS)[:8]
    edges = [f"{cell} {node}<-{source}" for cell in ("normal", "reduce") for node in range(2, 6)
             for source in range(node)]
    darts = cv2.imread(str(draw_arch_history(softmax_history(3, 28, 8).tolist(), tmp_path / "darts.png", ops, edges)))
    assert darts.shape[0] > 800 and darts.shape[1] > 1000
    one = cv2.imread(str(draw_arch_history(softmax_history(1)[:1], tmp_path / "one.png", NB201_OPS, NB201_EDGES)))
    for colour in op_colours(len(NB201_OPS)):  # every op is drawn: its legend swatch and its points
        assert len(colour_pixels(one, colour)) > 22 * 10
    assert len(set(op_colours(12))) == 12


def test_history_plot_follows_the_probabilities(tmp_path):
    """Two histories that differ only in which op wins: each op's line rises in one image and falls in the other."""
    from autodl.viz import draw_arch_history, op_colours

    rising = np.zeros((5, 2, 2))
    rising[:, :, 0] = np.linspace(0, 1, 5)[:, None]
    rising[:, :, 1] = 1 - rising[:, :, 0]
    falling = rising[:, :, ::-1]
    first = cv2.imread(str(draw_arch_history(rising, tmp_path / "a.png", ["conv", "pool"], ["a", "b"])))
    second = cv2.imread(str(draw_arch_history(falling, tmp_path / "b.png", ["conv", "pool"], ["a", "b"])))
    assert first.shape == second.shape and not np.array_equal(first, second)
    for colour, rises_in_first in zip(op_colours(2), (True, False)):
        in_first = (first == np.array(colour, np.uint8)).all(axis=2)
        in_second = (second == np.array(colour, np.uint8)).all(axis=2)
        for mask, rises in ((in_first & ~in_second, rises_in_first), (in_second & ~in_first, not rises_in_first)):
            rows, columns = np.nonzero(mask)  # pixels of the op's line only (the legend is the same in both)
            assert len(rows) > 100
            slope = np.polyfit(columns, rows, 1)[0]  # image rows grow downwards: a rising line has a negative slope
            assert (slope < 0) == rises and abs(slope) > 0.1


def test_history_with_one_op_list_per_edge(tmp_path):
    """NASP(12ops): normal and reduction edges search different ops; a panel draws only its edge's ops."""
    from autodl.viz import draw_arch_history, op_colours

    history = [[[0.2, 0.3, 0.5], [0.6, 0.4]] for _ in range(4)]
    image = cv2.imread(str(draw_arch_history(history, tmp_path / "h.png", [["a", "b", "c"], ["a", "d"]],
                                             ["normal", "reduce"])))
    pixels = [len(colour_pixels(image, colour)) for colour in op_colours(4)]  # the legend: a, b, c, d
    assert all(count > 22 * 10 for count in pixels)
    assert pixels[0] > 1.5 * pixels[1]  # `a` has a line in both panels, `b` in the normal one only


@pytest.mark.parametrize("history, ops, edges, path, pattern", [
    ([], NB201_OPS, NB201_EDGES, "h.png", r"nothing to draw: got 0 epochs"),
    ([[[0.5, 0.5], [1.0]]], ["a", "b"], ["e1", "e2"], "h.png", r"epoch 0 .* ragged .* expected \(2, 2\)"),
    ([np.full((6, 5), 0.2), np.full((6, 4), 0.25)], NB201_OPS, NB201_EDGES, "h.png",
     r"epoch 1 of the history has shape \(6, 4\), expected \(6, 5\)"),
    ([np.full((6, 5), 0.2)], NB201_OPS[:4], NB201_EDGES, "h.png", r"expected \(6, 4\) \(6 edge names x 4 op names\)"),
    ([np.full((6, 5), 0.2)], NB201_OPS, NB201_EDGES[:5], "h.png", r"shape \(6, 5\), expected \(5, 5\)"),
    ([np.full((6, 5), 0.2)], NB201_OPS, [], "h.png", r"nothing to draw: .* 0 edge names"),
    ([np.full((6, 5), 2.0)], NB201_OPS, NB201_EDGES, "h.png", r"outside \[0, 1\]"),
    ([np.full((6, 5), np.nan)], NB201_OPS, NB201_EDGES, "h.png", r"outside \[0, 1\] \(or NaN\)"),
    ([np.full((6, 5), 0.2)], NB201_OPS, NB201_EDGES, "h.svg", r"expected a \.png file"),
    ([[[0.5, 0.5], [0.5, 0.5]]], [["a", "b", "c"], ["a", "d"]], ["e1", "e2"], "h.png",
     r"epoch 0 of the history has shape \(2, 2\), expected rows of 3, 2 values"),
    ([[[1.0], [1.0]]], [["a"], ["b"], ["c"]], ["e1", "e2"], "h.png", r"one list per edge \(2 edge names\)"),
    ([[[0.5, 0.5]]], [["a", "a"]], ["e1"], "h.png", r"an op name repeats"),
])
def test_history_bad_input(tmp_path, history, ops, edges, path, pattern):
    from autodl.viz import draw_arch_history

    with pytest.raises(DrawingError, match=pattern):
        draw_arch_history(history, tmp_path / path, ops, edges)
    assert list(tmp_path.iterdir()) == []


def test_history_figure_has_axis_titles_round_epoch_ticks_and_a_y_range_fitted_to_each_edge():
    """The quick start's case: every op near 1/5 for 30 epochs.  Each panel's y-range holds its own lines with
    little room to spare (not the fixed 0-1, on which they are one flat line), ticks step through the epochs."""
    from autodl.viz import layout_arch_history

    rng = np.random.default_rng(0)
    history = 0.2 + rng.normal(0, 0.001, (30, 6, 5)).cumsum(axis=0)
    history /= history.sum(axis=2, keepdims=True)
    figure = layout_arch_history(history, NB201_OPS, NB201_EDGES, title="DARTS-V1")
    assert figure.title == "DARTS-V1" and figure.legend == NB201_OPS and figure.epochs == 30
    assert [panel.title for panel in figure.panels] == ["0 -> 1", "0 -> 2", "1 -> 2", "0 -> 3", "1 -> 3", "2 -> 3"]
    for edge, panel in enumerate(figure.panels):
        assert (panel.xlabel, panel.ylabel) == ("epoch", "probability")
        assert panel.xticks == [1, 10, 20, 30]
        low, high = panel.ylim
        data = history[:, edge, :]
        assert low <= data.min() and data.max() <= high  # every line inside
        assert high - low <= max(0.02, 1.2 * (data.max() - data.min())) + 1e-12  # and filling the panel
        assert len(panel.yticks) >= 2 and all(low <= tick <= high for tick in panel.yticks)
        assert list(panel.lines) == NB201_OPS and np.array_equal(panel.lines["none"], data[:, 0])


@pytest.mark.parametrize("epochs, ticks", [(1, [1]), (3, [1, 2, 3]), (8, list(range(1, 9))), (12, [1, 5, 10]),
                                           (50, [1, 10, 20, 30, 40, 50]), (250, [1, 50, 100, 150, 200, 250])])
def test_history_epoch_ticks(epochs, ticks):
    from autodl.viz import epoch_ticks

    assert epoch_ticks(epochs) == ticks


def test_history_y_range_is_the_data_range_within_0_and_1():
    from autodl.viz import probability_axis

    assert probability_axis(np.array([0.0, 1.0])) == ((0.0, 1.0), [0.0, 0.5, 1.0])
    (low, high), ticks = probability_axis(np.array([0.2, 0.2]))  # flat: the narrowest range, centred
    assert (low, high) == pytest.approx((0.19, 0.21)) and ticks == [0.19, 0.195, 0.2, 0.205, 0.21]
    (low, high), _ = probability_axis(np.array([0.001, 0.3]))
    assert low == 0.0 and 0.3 < high < 0.33
    (low, high), _ = probability_axis(np.array([0.9, 1.0]))
    assert 0.9 > low > 0.89 and high == 1.0
    assert probability_axis(np.array([0.0, 0.0]))[0] == (0.0, 0.02)


def test_nasnet_history_titles_name_states_as_the_cell_drawings_do():
    """The supernet's NASNet rows are ``normal i<-j``: node i, *state* j (0, 1 the inputs).  Titles say
    ``source -> node`` with the inputs and nodes named as in the cell drawings."""
    from autodl.models.supernet_nasnet import NASNetSuperNet
    from autodl.viz import edge_title

    titles = [edge_title(name) for name in NASNetSuperNet.edge_names]
    assert titles[:5] == ["normal: c_{k-2} -> 0", "normal: c_{k-1} -> 0", "normal: c_{k-2} -> 1",
                          "normal: c_{k-1} -> 1", "normal: 0 -> 1"]
    assert titles[13] == "normal: 2 -> 3" and titles[27] == "reduce: 2 -> 3" and len(set(titles)) == 28
    drawn = {node.key: node.label for node in layout_cell(get_genotype("DARTS_V2")).nodes}
    assert [drawn[key] for key in "012345"] == ["c_{k-2}", "c_{k-1}", "0", "1", "2", "3"]


def _labels_over_other_lines(drawing):
    from autodl.viz import _label_box, _place

    placed, _ = _place(drawing)
    crossed = []
    for item in placed:
        if item.edge.label:
            x0, y0, x1, y1 = _label_box(item.edge.label, *item.label_at)
            for other in placed:
                inside = ((other.points[:, 0] >= x0) & (other.points[:, 0] <= x1)
                          & (other.points[:, 1] >= y0) & (other.points[:, 1] <= y1))
                if other is not item and inside.any():
                    crossed.append((item.edge.label, other.edge.source, other.edge.target))
    return crossed


def test_nasnet_op_labels_sit_where_no_other_edge_crosses():
    """Every published genotype (PNASNet's 5 nodes included) and 30 random derived ones (both cells): no other
    edge's line runs under an op label (the labels' white boxes would hide it)."""
    from autodl.spaces.nasnet import derive_genotype

    rng = np.random.default_rng(0)
    genotypes = [get_genotype(name) for name in GENOTYPES]
    assert any(len(genotype.normal) == 5 for genotype in genotypes)
    genotypes += [derive_genotype(rng.random((14, 8)), rng.random((14, 8))) for _ in range(30)]
    assert len(genotypes) >= 35
    for genotype in genotypes:
        for cell in ("normal", "reduce"):
            assert _labels_over_other_lines(layout_cell(genotype, cell)) == [], (genotype, cell)


def test_arch_text_names_nodes_as_the_drawings():
    from autodl.viz import arch_text

    text = arch_text(get_genotype("DARTS_V2")).splitlines()
    assert text[0] == ("normal cell: 0 = sep_conv_3x3(c_{k-2}) + sep_conv_3x3(c_{k-1}); "
                       "1 = sep_conv_3x3(c_{k-2}) + sep_conv_3x3(c_{k-1}); 2 = sep_conv_3x3(c_{k-1}) + "
                       "skip_connect(c_{k-2}); 3 = skip_connect(c_{k-2}) + dil_conv_3x3(0); c_{k} = concat(0, 1, 2, 3)")
    assert text[1].startswith("reduce cell: 0 = max_pool_3x3(c_{k-2}) + max_pool_3x3(c_{k-1}); 1 = skip_connect(0)")
    assert len(text) == 2 and arch_text(NB201_ARCH) == NB201_ARCH
