"""A content-addressed memo of figure layouts and renders (issue 17: the code-edit loop).

Laying a figure out for the text column (:func:`plusdig.present.style.finish`: several trial
layouts) and rendering it (the page's SVG, the downloads' SVG and 300 dpi PNG) is most of a
figure chapter's run time, and a code edit re-runs the whole notebook although most of its
figures did not change. With a memo folder set (``$PLUSDIG_FIGURE_MEMO``; the build passes
``_build/.plusdig-figures`` to the kernels it starts, outside every fingerprint), a figure is
laid out and rendered once per content:

- **Layout**: the key is a digest of the figure as it is before ``finish`` (pickled: every
  artist, text, colour, datum and transform), the requested width and bands, the rcParams,
  the versions of Python, matplotlib, NumPy and Pillow, the font files matplotlib knows and the
  library's code. The value is the width found and the subplot parameters the layout set; a
  hit applies them instead of searching.
- **Renders**: a figure finished through the memo keeps its layout key while it is unchanged
  (any change to one of its artists marks a matplotlib figure stale, which drops the key); a
  render's key is the layout key, the format, the resolution, the ``savefig`` arguments and the
  rcParams at render time. The value is the file's bytes, the same as a fresh render's.

A figure that cannot be pickled, or is changed after ``finish``, is laid out and rendered as
without a memo. Entries are kept as :mod:`plusdig.core.memo` keeps them (one rename, their
own SHA-256 checked on reading, so a corrupt or partial entry is never used; removed after a
week unused). Without the setting (nbval, the tests' cold runs, scripts) nothing is read or
written.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import pickle
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

# imported here, not where the key needs it: a notebook's modules (its dependency record) are
# the same with and without a memo folder
from plusdig.core.digest import library_digest
from plusdig.core.memo import read_entry, write_entry

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MEMO_ENV", "FIGURE_MEMO", "memo_dir", "layout_key", "load_layout", "store_layout",
           "remember", "finished_mark", "render"]

#: The setting that names the memo folder (not a setting of the book: kept out of fingerprints).
MEMO_ENV = "PLUSDIG_FIGURE_MEMO"
#: The memo folder's name in a build folder (``_build/.plusdig-figures``; ``make clean``
#: removes it with the rest of ``_build``).
FIGURE_MEMO = ".plusdig-figures"
_ATTR = "_plusdig_memo_key"  # a finished figure's layout key, while it is unchanged
_process: list[bytes] = []  # the part of every key that is fixed for this process


def memo_dir() -> Path | None:
    """The memo folder named by ``$PLUSDIG_FIGURE_MEMO``, or None (no memo)."""
    value = os.environ.get(MEMO_ENV, "")
    return Path(value) if value else None


# --------------------------------------------------------------------------- keys
def _function(qualname: str, code: str, *parts: Any) -> None:  # pragma: no cover - never run
    """Stands for a function in a key's pickle (a key is hashed, never unpickled)."""


def _module(name: str) -> None:  # pragma: no cover - never run
    """Stands for a module in a key's pickle (by name: its code is in the key)."""


def _code_digest(code: types.CodeType) -> str:
    """A digest of a code object's behaviour (bytecode, constants, names), stable across
    processes (``marshal`` output is not: it depends on reference counts)."""
    h = hashlib.sha256()
    for part in (code.co_qualname, code.co_code, code.co_names, code.co_varnames,
                 code.co_freevars, code.co_cellvars):
        h.update(repr(part).encode())
    for const in code.co_consts:
        h.update(_code_digest(const).encode() if isinstance(const, types.CodeType)
                 else repr(const).encode())
    return h.hexdigest()


class _KeyPickler(pickle.Pickler):
    """Pickles a figure for its key: canonical where matplotlib's pickle is not.

    - a transform's ``_parents`` is keyed by ``id()``: only its values (in order) count;
    - a figure's ``number`` (its place among the notebook's figures) does not count;
    - a function that pickle cannot name (a closure such as a tick formatter's) counts by its
      code, defaults and closure values, a module (a closure's import) by its name.
    """

    def reducer_override(self, obj: Any) -> Any:
        from matplotlib.figure import Figure
        from matplotlib.transforms import TransformNode

        if isinstance(obj, types.FunctionType):
            module = sys.modules.get(obj.__module__ or "")
            target: Any = module
            for name in obj.__qualname__.split("."):
                target = getattr(target, name, None)
            if target is obj:
                return NotImplemented  # pickled by name (its module's code is in the key)
            cells = tuple(c.cell_contents for c in obj.__closure__ or ())
            return _function, (obj.__qualname__, _code_digest(obj.__code__), obj.__defaults__,
                               obj.__kwdefaults__, cells)
        if isinstance(obj, types.ModuleType):
            return _module, (obj.__name__,)
        if isinstance(obj, (TransformNode, Figure)):
            rv = obj.__reduce_ex__(5)
            if len(rv) > 2 and isinstance(rv[2], dict):
                state = dict(rv[2])
                if isinstance(state.get("_parents"), dict):
                    state["_parents"] = list(state["_parents"].values())
                if isinstance(obj, Figure):
                    state.pop("number", None)
                    state.pop("_number", None)
                return (*rv[:2], state, *rv[3:])
        return NotImplemented


class _HashWriter:
    def __init__(self) -> None:
        self.h = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.h.update(data)
        return len(data)


def _process_key() -> bytes:
    """Python, matplotlib, NumPy, Pillow, the font files matplotlib knows, the library's code."""
    if not _process:
        import matplotlib
        import numpy
        import PIL
        from matplotlib import font_manager

        fonts = []
        for entry in sorted(font_manager.fontManager.ttflist, key=lambda f: (f.fname, f.name)):
            try:
                st = os.stat(entry.fname)
                fonts.append(f"{entry.fname}:{st.st_size}:{st.st_mtime_ns}:{entry.name}:"
                             f"{entry.style}:{entry.weight}")
            except OSError:
                fonts.append(f"{entry.fname}:missing")
        _process.append("\n".join([sys.version, matplotlib.__version__, numpy.__version__,
                                   PIL.__version__, library_digest(), *fonts]).encode())
    return _process[0]


def _rc_key() -> bytes:
    import matplotlib

    return repr(sorted(matplotlib.rcParams.items())).encode()


def _key(*parts: bytes) -> str:
    h = hashlib.sha256(_process_key())
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def layout_key(fig: Figure, **request: float) -> str | None:
    """The key of ``fig``'s layout for ``request`` (width and bands asked of ``finish``), or
    None: no memo folder set, or a figure that cannot be pickled (then it is laid out anew)."""
    if memo_dir() is None:
        return None
    writer = _HashWriter()
    try:
        _KeyPickler(writer, protocol=5).dump(fig)
    except Exception:  # noqa: BLE001 - anything unpicklable: no memo for this figure
        return None
    return _key(b"layout", writer.h.digest(), _rc_key(),
                json.dumps(request, sort_keys=True).encode())


# --------------------------------------------------------------------------- entries
def _path(key: str, kind: str) -> Path | None:
    folder = memo_dir()
    return None if folder is None else folder / f"{key}.{kind}"


def load_layout(key: str | None) -> dict[str, Any] | None:
    """The layout stored under ``key`` (``width``, ``subplotpars``, ``placeholder``, ``bbox``),
    or None."""
    path = None if key is None else _path(key, "layout")
    content = None if path is None else read_entry(path)
    if content is None:
        return None
    try:
        value = json.loads(content)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("width"), float):
        return None
    bbox = value.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, float) for v in bbox)):
        return None
    return value


def store_layout(key: str | None, fig: Figure, bbox: list[float]) -> None:
    """Store ``fig``'s layout (just finished) under ``key``, with the extent of its drawing
    (``bbox``: x, y, width, height in inches, as ``fig.get_tightbbox`` gave it)."""
    path = None if key is None else _path(key, "layout")
    if path is None:
        return
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    sp = fig.subplotpars
    engine = fig.get_layout_engine()
    value = {"width": float(fig.get_figwidth()),
             "subplotpars": {k: float(getattr(sp, k))
                             for k in ("left", "right", "bottom", "top", "wspace", "hspace")},
             "placeholder": isinstance(engine, PlaceHolderLayoutEngine), "bbox": bbox}
    write_entry(path, json.dumps(value, sort_keys=True).encode())


def remember(fig: Figure, key: str | None, bbox: list[float]) -> None:
    """Keep ``key`` (None: no memo) and the extent of the drawing ``bbox`` on the finished
    ``fig`` until one of its artists changes."""
    setattr(fig, _ATTR, (key, id(fig), bbox))  # a copy (pickled, deep-copied) is another figure
    fig.stale = False  # from here on, a change to any artist reaches the figure's callback
    previous = fig.stale_callback

    def forget(artist: Any, value: bool) -> None:
        if value and not getattr(fig, "_plusdig_rendering", False):
            fig.__dict__.pop(_ATTR, None)
        if previous is not None:
            previous(artist, value)

    fig.stale_callback = forget


def finished_mark(fig: Figure) -> Any:
    """The mark :func:`remember` left on ``fig`` while it is unchanged since ``finish`` (the
    same object until then), else None."""
    mark = getattr(fig, _ATTR, None)
    return mark if isinstance(mark, tuple) and mark[1] == id(fig) else None


def _fixed(fig: Figure) -> bool:
    """Whether saving ``fig`` needs no layout pass beyond the one :func:`finish` made: no layout
    engine to run (none, or the placeholder ``tight_layout`` leaves), every Axes placed as its
    subplot parameters say (no aspect to apply, no locator)."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    return ((engine is None or isinstance(engine, PlaceHolderLayoutEngine))
            and all(ax.get_aspect() == "auto" and ax.get_box_aspect() is None
                    and ax.get_axes_locator() is None for ax in fig.axes))


#: zlib level of the PNGs (a figure's download and a widget's fallback). With an opaque figure
#: written as RGB (below), level 3 encodes the book's 20 PNGs in 0.8 s of CPU instead of 1.5 s
#: (matplotlib's RGBA at Pillow's level 6), and the files are 2 % smaller, not larger; RGB at
#: level 6 would be 9 % smaller for 0.35 s more.
PNG_LEVEL = 3


@functools.cache
def _png_canvas() -> type:
    """An Agg canvas whose ``print_png`` writes an opaque drawing as RGB (the alpha channel of
    a figure with an opaque background is 255 everywhere: a quarter of the bytes to compress
    for nothing) at :data:`PNG_LEVEL`; a drawing with any transparent pixel stays RGBA. The
    text chunks (``metadata``, matplotlib's "Software" unless None) and the resolution are
    written as matplotlib writes them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    class PNGCanvas(FigureCanvasAgg):
        def print_png(self, filename_or_obj: Any, *, metadata: dict[str, Any] | None = None,
                      pil_kwargs: dict[str, Any] | None = None, **_: Any) -> None:
            import matplotlib
            import numpy as np
            from PIL import Image, PngImagePlugin

            FigureCanvasAgg.draw(self)
            rgba = np.asarray(self.buffer_rgba())
            image = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw",
                                     "RGBA", 0, 1)
            if bool((rgba[..., 3] == 255).all()):
                image = image.convert("RGB")
            info = PngImagePlugin.PngInfo()
            texts = {"Software": f"Matplotlib version{matplotlib.__version__}, "
                                 "https://matplotlib.org/", **(metadata or {})}
            for k, v in texts.items():
                if v is not None:
                    info.add_text(k, v)
            dpi = self.figure.dpi
            image.save(filename_or_obj, **{"format": "png", "pnginfo": info, "dpi": (dpi, dpi),
                                           "compress_level": PNG_LEVEL, **(pil_kwargs or {})})

    return PNGCanvas


def _savefig(fig: Figure, fmt: str, dpi: float | None, metadata: dict[str, Any],
             bbox: list[float] | None = None) -> bytes:
    """``fig.savefig`` cut to its drawing (``bbox_inches="tight"``). With ``bbox``, the extent
    :func:`~plusdig.present.style.finish` measured (Agg, at the figure's dpi) in its last layout
    of the unchanged figure, the file is cut to that, padded as "tight" pads, instead of laying
    the figure out once more to measure it (one draw in two)."""
    import matplotlib

    buf = io.BytesIO()
    kwargs: dict[str, Any] = {"format": fmt, "bbox_inches": "tight", "metadata": metadata}
    if dpi is not None:
        kwargs["dpi"] = dpi
    engine = fig.get_layout_engine()
    if bbox is not None and _fixed(fig):
        from matplotlib.transforms import Bbox

        pad = float(matplotlib.rcParams["savefig.pad_inches"])
        kwargs["bbox_inches"] = Bbox.from_bounds(*bbox).padded(pad)
        fig.set_layout_engine(None)  # the placeholder would make savefig lay out again
        if fig.get_layout_engine() is not None:  # figure.autolayout & co. set: as before
            fig.set_layout_engine(engine)
            kwargs["bbox_inches"] = "tight"
    canvas = fig.canvas
    try:
        if fmt == "png":  # saved by the canvas above (as savefig switches canvases by format)
            _png_canvas()(fig)
        fig.savefig(buf, **kwargs)
    finally:
        fig.set_canvas(canvas)
        if engine is not None and fig.get_layout_engine() is None:
            fig.set_layout_engine(engine)
    return buf.getvalue()


def render(fig: Figure, fmt: str, dpi: float | None = None,
           metadata: dict[str, Any] | None = None) -> bytes:
    """``fig`` saved as ``fmt`` (``bbox_inches="tight"``, ``metadata``) at ``dpi`` (default:
    ``savefig.dpi``): from the memo when the same finished figure was rendered so before."""
    metadata = dict(metadata or {})
    mark = finished_mark(fig)
    current = mark is not None  # finished, unchanged since
    key = mark[0] if current else None
    path = None
    if key is not None:
        rkey = _key(b"render", key.encode(), _rc_key(), json.dumps(
            [fmt, dpi, sorted((k, repr(v)) for k, v in metadata.items())]).encode())
        path = _path(rkey, fmt)
        content = None if path is None else read_entry(path)
        if content is not None:
            return content
    fig._plusdig_rendering = True  # type: ignore[attr-defined]  # drawing is no change
    try:
        # a PNG is drawn by Agg, as finish() laid the figure out: cut to the extent it measured.
        # The SVG (the page's) keeps its own measure: its text is measured unhinted, about 2 %
        # narrower than Agg's, so its tight extent is its own.
        content = _savefig(fig, fmt, dpi, metadata,
                           mark[2] if current and fmt == "png" else None)
    finally:
        fig._plusdig_rendering = False  # type: ignore[attr-defined]
    if path is not None and getattr(fig, _ATTR, None) == mark:
        write_entry(path, content)
    return content
