"""The figure memo (:mod:`plusdig.present.figmemo`): a figure laid out and rendered before is
taken from the memo, byte for byte what a fresh layout and render give; any change to the
figure, the rcParams, the request or the code is a miss; a corrupt entry is never used; the
kernels of a build give the same notebook outputs with and without it (that test is in
tests/test_determinism.py, whose warm build's run of the chapter is the run with an empty memo).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import plusdig  # noqa: E402
from plusdig.core.memo import read_entry  # noqa: E402
from plusdig.present import figmemo  # noqa: E402
from plusdig.present.figdata import figure_payload  # noqa: E402
from plusdig.present.widgets import figure_png, figure_svg  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _house_style() -> Iterator[None]:
    with matplotlib.rc_context():
        plusdig.use_house_style()
        yield


@pytest.fixture()
def memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "memo"
    monkeypatch.setenv(figmemo.MEMO_ENV, str(folder))
    return folder


def _reach() -> Figure:
    return plusdig.reach_chart(plusdig.reach_counts(plusdig.counts_table()))


def _partners() -> Figure:
    labels = {a.id: a.title for a in plusdig.load_activities()}
    return plusdig.partners_by_sector(plusdig.partners_table(), labels,
                                      plusdig.vocab_labels("sectors"))


def _network() -> Figure:
    return plusdig.network_figure(plusdig.build_network(plusdig.partners_table()))


def _sector() -> Figure:
    from plusdig.present.figures import sector_activities

    labels = {a.id: a.title for a in plusdig.load_activities()}
    return sector_activities(plusdig.partners_table(), "civil_society", labels, "Civilsamfund")


#: Figures of the book's slowest chapter: a closure tick formatter (reach), a legend below the
#: axes (partners), a network layout, a sector view (no attached data: rendered by widgets).
FIGURES: dict[str, Callable[[], Figure]] = {
    "reach": _reach, "partners": _partners, "network": _network, "sector": _sector}


def _files(fig: Figure) -> dict[str, bytes]:
    """Every file the book makes of a figure, and two the memo never holds (fresh renders of
    the laid-out figure: a hit must leave it as a fresh layout does)."""
    out = {"svg": figure_svg(fig), "png": figure_png(fig)}
    payload = figure_payload(fig)
    if payload is not None:
        out.update(payload_svg=payload["svg"].encode(), payload_png=payload["png"].encode())
    for fmt, dpi in (("png", 72), ("pdf", 72)):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight",
                    metadata={"Software": None} if fmt == "png" else {"CreationDate": None})
        out[f"fresh_{fmt}"] = buf.getvalue()
    out["width"] = repr(fig.get_figwidth()).encode()
    return out


def _cold(make: Callable[[], Figure], monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    with monkeypatch.context() as m:
        m.delenv(figmemo.MEMO_ENV, raising=False)
        return _files(make())


#: Work several tests of this file share, made once (each test also makes it itself when it
#: runs alone): a figure's files without a memo (by name) and the memo folder one miss of the
#: reach chart filled, with the files that miss gave. Every figure here is made anew each time
#: (same data, same house style): its files are the same bytes each time, which the
#: parametrised hit test checks (a fresh figure's files without, with an empty and with a full
#: memo).
_MADE: dict[str, Any] = {}


def _cold_files(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """:func:`_cold` of ``FIGURES[name]``, made once for the file."""
    if name not in _MADE:
        _MADE[name] = _cold(FIGURES[name], monkeypatch)
    return _MADE[name]


def _filled_memo(memo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Fill ``memo`` (the test's empty memo folder, set in the environment) as one miss of the
    reach chart fills it; return the miss's files. The entries of the first miss are kept and
    copied for later tests, byte for byte what their own miss writes (the hit test checks that
    a miss gives the cold bytes and writes these entries)."""
    import shutil

    if "reach-memo" not in _MADE:
        _keep_reach_memo(memo, _files(_reach()), tmp_path_factory)
    kept, files = _MADE["reach-memo"]
    shutil.copytree(kept, memo, dirs_exist_ok=True)
    return files


def _keep_reach_memo(memo: Path, files: dict[str, bytes],
                     tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep a copy of ``memo``, just filled by a miss of the reach chart that gave ``files``."""
    import shutil

    kept = tmp_path_factory.mktemp("reach-memo") / "memo"
    shutil.copytree(memo, kept)
    _MADE["reach-memo"] = (kept, files)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_hit_gives_the_bytes_of_a_fresh_layout_and_render(
        name: str, memo: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    make = FIGURES[name]
    cold = _cold(make, monkeypatch)
    assert not memo.exists()  # no memo set: nothing written
    _MADE.setdefault(name, cold)  # for the later tests of this file
    miss = _files(make())
    entries = sorted(p.name for p in memo.iterdir())
    assert any(e.endswith(".layout") for e in entries) and any(e.endswith(".svg") for e in entries)
    calls: list[object] = []
    real = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (calls.append(k.get("format")),
                                                                   real(self, *a, **k))[1])
    if name == "reach" and "reach-memo" not in _MADE:  # what a miss wrote, for later tests
        _keep_reach_memo(memo, miss, tmp_path_factory)
    hit = _files(make())
    assert calls == ["png", "pdf"]  # only the two fresh renders drew: the rest came from the memo
    assert miss == cold
    assert hit == cold
    assert sorted(p.name for p in memo.iterdir()) == entries  # a hit writes nothing


def _key(make: Callable[[], Figure], monkeypatch: pytest.MonkeyPatch,
         change: Callable[[Figure], None] = lambda fig: None, **request: float) -> str | None:
    """The layout key of ``make()``'s figure as ``finish`` sees it, after ``change``."""
    from plusdig.present import style

    seen: list[str | None] = []
    real = style.finish

    def finish(fig: Figure, width_in: float = style.FIGURE_WIDTH_IN, *, top_in: float = 0.0,
               bottom_in: float = 0.0) -> Figure:
        change(fig)
        req = {"width_in": width_in, "top_in": top_in, "bottom_in": bottom_in, **request}
        seen.append(figmemo.layout_key(fig, **req))
        return real(fig, width_in, top_in=top_in, bottom_in=bottom_in)

    with monkeypatch.context() as m:
        m.setattr("plusdig.present.figures.finish", finish)
        make()
    assert len(seen) == 1
    return seen[0]


CHANGES: dict[str, Callable[[Figure], None]] = {
    "label": lambda fig: fig.axes[0].set_title("Rækkevidde (rettet)"),
    "colour": lambda fig: fig.axes[0].patches[0].set_facecolor("#B03A2E"),
    "datum": lambda fig: fig.axes[0].patches[0].set_width(fig.axes[0].patches[0].get_width() + 1),
    "font size": lambda fig: fig.axes[0].title.set_fontsize(12),
    "rcParam": lambda fig: matplotlib.rcParams.update({"savefig.pad_inches": 0.2}),
}


@pytest.mark.parametrize("what", sorted(CHANGES))
def test_every_change_to_the_figure_is_a_miss(what: str, memo: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    base = _base_key(monkeypatch)
    assert _key(_reach, monkeypatch, CHANGES[what]) != base


def _base_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The unchanged reach chart's layout key, made twice (the same figure made anew, the
    same key) once for the file."""
    if "base-key" not in _MADE:
        base = _key(_reach, monkeypatch)
        assert base is not None and base == _key(_reach, monkeypatch)
        _MADE["base-key"] = base
    return _MADE["base-key"]


def test_request_code_and_versions_are_in_the_key(memo: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base = _base_key(monkeypatch)
    assert _key(_reach, monkeypatch, width_in=6.0) != base
    assert _key(_reach, monkeypatch, top_in=0.3) != base
    with monkeypatch.context() as m:  # other library code
        m.setattr(figmemo, "_process", [])
        m.setattr(figmemo, "library_digest", lambda: "other code")
        assert _key(_reach, monkeypatch) != base
    with monkeypatch.context() as m:  # another matplotlib
        m.setattr(figmemo, "_process", [])
        m.setattr(matplotlib, "__version__", "0.0")
        assert _key(_reach, monkeypatch) != base
    monkeypatch.setattr(figmemo, "_process", [])
    assert _key(_reach, monkeypatch) == base
    other = plt.figure()  # a figure made before it (its number is no part of the key)
    try:
        assert _key(_reach, monkeypatch) == base
    finally:
        plt.close(other)


def test_changed_after_finish_renders_anew(memo: Path, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    _filled_memo(memo, tmp_path_factory)  # the memo as a miss of the unchanged chart fills it

    def changed() -> Figure:
        fig = _reach()
        fig.axes[0].set_title("Ændret efter finish")
        return fig

    cold = _cold(changed, monkeypatch)
    assert _files(changed()) == cold
    assert _files(changed()) == cold


def test_a_copy_of_a_finished_figure_renders_anew(memo: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path_factory: pytest.TempPathFactory,
                                                 ) -> None:
    import copy

    _filled_memo(memo, tmp_path_factory)
    fig = copy.deepcopy(_reach())  # no stale callback of its own: its changes go unseen
    fig.axes[0].set_title("Ændret kopi")
    with monkeypatch.context() as m:
        m.delenv(figmemo.MEMO_ENV)
        expected = figure_png(fig)
    assert figure_png(fig) == expected


def test_corrupt_or_partial_entries_are_never_used(memo: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path_factory: pytest.TempPathFactory,
                                                  ) -> None:
    cold = _cold_files("reach", monkeypatch)
    _filled_memo(memo, tmp_path_factory)
    entries = sorted(memo.iterdir())
    assert entries
    for i, path in enumerate(entries):  # flip a byte, truncate, empty, in turn
        data = path.read_bytes()
        path.write_bytes([data[:-1] + bytes([data[-1] ^ 1]), data[: len(data) // 2], b""][i % 3])
    assert _files(_reach()) == cold
    for path in entries:  # each bad entry was made anew, whole
        data = path.read_bytes()
        assert read_entry(path) is not None and len(data) > 32
    layout = next(p for p in entries if p.suffix == ".layout")
    layout.write_bytes(b"\0" * 40)
    assert figmemo.load_layout(layout.stem) is None


def test_unpicklable_figure_is_laid_out_without_the_memo(memo: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from plusdig.present.style import finish

    def with_lock() -> Figure:
        fig, ax = plt.subplots()
        ax.bar(["a", "b"], [1, 2])
        fig.lock = threading.Lock()  # type: ignore[attr-defined]
        return finish(fig)

    assert _files(with_lock()) == _cold(with_lock, monkeypatch)
    assert not memo.exists() or not any(p.suffix == ".layout" for p in memo.iterdir())


_KEY_SCRIPT = """
import matplotlib; matplotlib.use("Agg")
import plusdig
from plusdig.present import figmemo, style
plusdig.use_house_style()
keys = []
real = style.finish
def finish(fig, *a, **k):
    keys.append(figmemo.layout_key(fig, width_in=6.5))
    return real(fig, *a, **k)
import plusdig.present.figures as F
F.finish = style.finish = finish  # the network figure imports style.finish when it runs
plusdig.reach_chart(plusdig.reach_counts(plusdig.counts_table()))
plusdig.network_figure(plusdig.build_network(plusdig.partners_table()))
print(hash("plusdig"))
print(keys)
"""


def test_keys_are_the_same_in_every_process(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes (other hash seeds, other object addresses) compute the same keys: a new
    Python and this test process, which has made and finished other figures before."""
    from plusdig.present import style

    import ast

    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {**os.environ, "PYTHONHASHSEED": seed, figmemo.MEMO_ENV: str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _KEY_SCRIPT], env=env, capture_output=True,
                         text=True, check=True, cwd=REPO)
    their_hash, theirs = (ast.literal_eval(line) for line in out.stdout.strip().splitlines()[-2:])
    keys: list[str | None] = []
    real = style.finish

    def finish(fig: Figure, *a: Any, **k: Any) -> Figure:
        keys.append(figmemo.layout_key(fig, width_in=6.5))
        return real(fig, *a, **k)

    monkeypatch.setenv(figmemo.MEMO_ENV, str(tmp_path))
    monkeypatch.setattr("plusdig.present.figures.finish", finish)
    monkeypatch.setattr(style, "finish", finish)  # the network figure imports it when it runs
    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # the settings a new process starts from, then the house style
        plusdig.use_house_style()
        plusdig.reach_chart(plusdig.reach_counts(plusdig.counts_table()))
        plusdig.network_figure(plusdig.build_network(plusdig.partners_table()))
    assert hash("plusdig") != their_hash  # another hash seed
    assert keys == theirs and len(keys) == 2 and None not in keys


# --------------------------------------------------------------------------- speed, same files
def _unshared(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib's own per-renderer text measurement and layout for the rest of the test."""
    import matplotlib.text as mtext

    shared = mtext._get_text_metrics_with_cache
    assert getattr(shared, "__plusdig__", False)  # use_house_style installed the shared cache
    monkeypatch.setattr(mtext, "_get_text_metrics_with_cache", shared.__wrapped__)
    layout = mtext.Text._get_layout
    assert getattr(layout, "__plusdig__", False)  # ... and the shared layouts
    monkeypatch.setattr(mtext.Text, "_get_layout", layout.__wrapped__)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_shared_text_metrics_give_the_same_files(name: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Measuring and laying out each text once per renderer kind (plusdig.present.textmetrics)
    lays out and renders every file exactly as matplotlib's per-renderer measuring does."""
    shared = _cold_files(name, monkeypatch)  # without a memo, texts measured once
    monkeypatch.delenv(figmemo.MEMO_ENV, raising=False)
    with monkeypatch.context() as m:
        _unshared(m)
        own = _files(FIGURES[name]())
    assert shared == own


def test_shared_text_metrics_follow_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A measurement is never reused across a setting, font or resolution it depends on."""
    import matplotlib.text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    shared = mtext._get_text_metrics_with_cache
    text = "Kommunen og civilsamfundet, 2017–2019"
    seen = set()
    for dpi in (100, 300):
        for settings in ({}, {"text.hinting": "no_hinting"}, {"font.family": "DejaVu Serif"},
                         {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans Mono"]}):
            with matplotlib.rc_context(settings):
                renderer = RendererAgg(100, 100, dpi)
                prop = FontProperties(size=9)
                got = shared(renderer, text, prop, False, dpi)
                assert got == shared.__wrapped__(RendererAgg(100, 100, dpi), text, prop, False, dpi)
                seen.add(got)
    assert len(seen) == 8  # each setting and resolution does change the measurement


def test_shared_text_layouts_follow_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text's layout is never reused across a property, setting, renderer or resolution it
    depends on, and every caller gets a box of its own."""
    import matplotlib.text as mtext
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import RendererSVG

    shared = mtext.Text._get_layout
    assert getattr(shared, "__plusdig__", False)  # use_house_style installed it
    changes: dict[str, Callable[[Any], Any]] = {
        "as is": lambda t: None, "text": lambda t: t.set_text("Frivillige foreninger"),
        "lines": lambda t: t.set_text("Kommunen og\ncivilsamfundet"),
        "size": lambda t: t.set_fontsize(12), "weight": lambda t: t.set_fontweight("bold"),
        "rotation": lambda t: t.set_rotation(30), "ha": lambda t: t.set_ha("right"),
        "va": lambda t: t.set_va("top"), "rotation mode": lambda t: t.set_rotation_mode("anchor"),
        "linespacing": lambda t: t.set_linespacing(2.0),
        "dpi": lambda t: t.get_figure(root=True).set_dpi(300),
        "font": lambda t: t.set_family("DejaVu Serif"),
    }
    seen = set()
    for name, change in changes.items():
        fig = Figure(figsize=(4, 3))
        renderers = [FigureCanvasAgg(fig).get_renderer(),
                     MixedModeRenderer(fig, 4, 3, 72, RendererSVG(4, 3, io.StringIO()))]
        text = fig.text(0.5, 0.5, "Kommunen og civilsamfundet", multialignment="center",
                        rotation=10 if name == "rotation mode" else 0)
        change(text)
        for renderer in renderers:
            for _ in range(2):  # the second from the cache
                box, lines, corner = shared(text, renderer)
                own_box, own_lines, own_corner = shared.__wrapped__(text, renderer)
                assert (box.bounds, lines, corner) == (own_box.bounds, own_lines, own_corner)
                box.set_points(box.get_points() + 1)  # changing one's box changes no other's
            seen.add((type(renderer), box.bounds, repr(lines)))
    assert len(seen) == 2 * len(changes)  # each change does change the layout


def _draws(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, r: (calls.append(1), real(self, r))[1])
    return calls


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_tight_layout_measuring_each_axes_once_gives_the_same_files(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """finish()'s tight_layout measures each Axes once, not twice (the second pass gets the
    first's extents), and every file is the one matplotlib's own two passes give."""
    import contextlib

    import matplotlib.artist as martist

    from plusdig.present import style

    once = _cold_files(name, monkeypatch)  # without a memo
    monkeypatch.delenv(figmemo.MEMO_ENV, raising=False)
    real = martist._get_tightbbox_for_layout_only
    measured: list[int] = []

    def counted(obj: Any, *a: Any, **k: Any) -> Any:
        if isinstance(obj, matplotlib.axes.Axes):
            measured.append(id(obj))
        return real(obj, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(martist, "_get_tightbbox_for_layout_only", counted)
        fig = FIGURES[name]()
        n_once = len(measured)
        m.setattr(style, "_subplot_extents_once", lambda fig: contextlib.nullcontext())
        measured.clear()
        twice = _files(FIGURES[name]())
        n_twice = len(measured)
    assert once == twice
    n_axes = len([ax for ax in fig.axes if ax.get_visible()])
    assert n_once == n_axes and n_twice == 2 * n_axes


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_png_is_cut_to_the_extent_finish_measured(name: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A finished, unchanged figure's PNG is drawn once (no second layout to measure it), cut
    to the extent finish() measured, padded as "tight" pads, and no mark touches its margin."""
    import numpy as np
    from PIL import Image

    monkeypatch.delenv(figmemo.MEMO_ENV, raising=False)
    fig = FIGURES[name]()
    _, _, w, h = fig._plusdig_memo_key[2]  # type: ignore[attr-defined]
    draws = _draws(monkeypatch)
    png = figure_png(fig, dpi=300)
    assert len(draws) == 1
    pad = matplotlib.rcParams["savefig.pad_inches"]
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    assert abs(image.shape[1] - (w + 2 * pad) * 300) <= 1
    assert abs(image.shape[0] - (h + 2 * pad) * 300) <= 1
    margin = int(pad * 300 * 0.5)  # at least half the pad is blank on every side
    for edge in (image[:margin], image[-margin:], image[:, :margin], image[:, -margin:]):
        assert edge.min() == 255, f"{name}: a mark reaches the PNG's margin"


def test_changed_or_aspect_fixed_figures_are_measured_as_before(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure changed after finish(), or one whose Axes keep an aspect, is laid out again to
    be cut (bbox_inches="tight"), as matplotlib does: the same image as a plain savefig
    (pixel for pixel, same size and resolution; the encoding is the book's, see below)."""
    from plusdig.present.style import finish

    monkeypatch.delenv(figmemo.MEMO_ENV, raising=False)

    def tight(fig: Figure) -> bytes:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, bbox_inches="tight", metadata={"Software": None})
        return buf.getvalue()

    changed = _reach()
    changed.axes[0].set_title("En meget længere titel end den, figuren blev lagt ud med")
    square = plt.figure(figsize=(4, 3))
    square.add_subplot().plot([0, 1], [0, 2])
    square.axes[0].set_aspect("equal")
    finish(square)
    for fig in (changed, square):
        draws = _draws(monkeypatch)
        png = figure_png(fig)
        assert len(draws) == 2
        monkeypatch.undo()
        assert _pixels(png) == _pixels(tight(fig))


def _pixels(png: bytes) -> tuple[tuple[int, ...], Any, bytes]:
    """A PNG's size, resolution and RGBA pixels (what a reader sees, whatever the encoding)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    return image.size, image.info.get("dpi"), image.convert("RGBA").tobytes()


def _matplotlib_png(fig: Figure, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("transparent", [False, True])
def test_png_encoding_keeps_every_pixel(transparent: bool,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The book writes an opaque figure's PNG as RGB at zlib level PNG_LEVEL (matplotlib: RGBA,
    level 6): the same pixels, size, resolution and text chunks as matplotlib's file, and
    smaller; a figure with transparent pixels stays RGBA, pixel for pixel."""
    from PIL import Image

    monkeypatch.delenv(figmemo.MEMO_ENV, raising=False)
    fig = _reach()
    fig._plusdig_memo_key = None  # type: ignore[attr-defined]  # cut as "tight", as theirs
    if transparent:
        fig.patch.set_alpha(0.0)
    meta = {"Software": None, "Title": "Rækkevidde <&>"}
    ours = figmemo.render(fig, "png", 150, meta)
    theirs = _matplotlib_png(fig, dpi=150, metadata=meta)
    image = Image.open(io.BytesIO(ours))
    assert image.mode == ("RGBA" if transparent else "RGB")
    assert image.info["dpi"] == Image.open(io.BytesIO(theirs)).info["dpi"]
    assert image.text == {"Title": "Rækkevidde <&>"}  # type: ignore[attr-defined]
    assert _pixels(ours) == _pixels(theirs)
    if not transparent:
        assert len(ours) < len(theirs)
        assert "Matplotlib" in Image.open(io.BytesIO(figmemo.render(fig, "png", 50))).text[
            "Software"]  # type: ignore[attr-defined]
    monkeypatch.setattr(figmemo, "PNG_LEVEL", 9)  # the level is the one written with
    other = figmemo.render(fig, "png", 150, meta)
    assert other != ours and _pixels(other) == _pixels(ours)


def test_a_layout_entry_without_the_extent_is_a_miss(memo: Path) -> None:
    from plusdig.core.memo import write_entry

    memo.mkdir(parents=True)
    write_entry(memo / f"{'0' * 64}.layout", json.dumps(
        {"width": 6.0, "subplotpars": {}, "placeholder": False}).encode())
    assert figmemo.load_layout("0" * 64) is None


_SHELL_SCRIPT = r"""
import io, json, sys
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
import matplotlib
matplotlib.use("module://matplotlib_inline.backend_inline")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
import plusdig
from plusdig.present.figdata import FIGURE_MIME
plusdig.use_house_style()
plusdig.use_house_style()  # idempotent: still one SVG per figure
draws = []
real = Figure.draw
Figure.draw = lambda self, r: (draws.append(1), real(self, r))[1]
fig = plusdig.reach_chart(plusdig.reach_counts(plusdig.counts_table()))
draws.clear()
data, _ = ip.display_formatter.format(fig)
with_data = {"draws": len(draws), "same": data["image/svg+xml"] == data[FIGURE_MIME]["svg"]}
plain, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
draws.clear()
data, _ = ip.display_formatter.format(plain)
print(json.dumps({"with_data": with_data, "plain_draws": len(draws),
                  "plain_svg": "Matplotlib v" in data["image/svg+xml"]}))
"""


def test_a_figure_with_data_is_drawn_once_per_file_in_a_notebook(tmp_path: Path) -> None:
    """In IPython a figure with data is drawn for its two files only (the SVG the page shows:
    measured, then drawn; the 300 dpi PNG: drawn, cut to finish()'s extent) and its
    ``image/svg+xml`` is that SVG, not another drawing by the inline backend (two more); a
    figure without data keeps the inline backend's SVG."""
    env = {k: v for k, v in os.environ.items() if k != figmemo.MEMO_ENV}
    done = subprocess.run([sys.executable, "-c", _SHELL_SCRIPT], capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["with_data"] == {"draws": 3, "same": True}
    assert result["plain_draws"] == 2 and result["plain_svg"]  # tight bbox + draw, inline's
