"""Unit tests of plusdig.present.widgets: the explorer is a Dropdown jslink-ed to a Stack of precomputed
views, and its display bundle carries a PNG for static outputs."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from plusdig.present import widgets

PARTNERS = pd.DataFrame([
    {"activity_id": 1, "activity": "Bus", "actor_id": "sek", "actor": "Sekretariatet", "sector": "municipality"},
    {"activity_id": 2, "activity": "Hack", "actor_id": "sek", "actor": "Sekretariatet", "sector": "municipality"},
    {"activity_id": 2, "activity": "Hack", "actor_id": "ff", "actor": "Fucking Flink & Co", "sector": "business"},
])
LABELS = {1: "Bus", 2: "Hack", 3: "Tom"}
SECTORS = {"municipality": "Kommune", "business": "Erhvervsliv", "research": "Forskning"}
PNG = b"\x89PNG\r\n\x1a\n"


def test_figure_png_is_png() -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    data = widgets.figure_png(fig)
    plt.close(fig)
    assert data.startswith(PNG) and data == widgets.figure_png(fig)  # reproducible bytes


def test_sector_views() -> None:
    views = widgets.sector_views(PARTNERS, LABELS, SECTORS)
    assert list(views) == ["Kommune", "Erhvervsliv"]  # vocabulary order, absent sectors left out
    assert "<b>1. Bus</b>" in views["Kommune"] and "<b>2. Hack</b>" in views["Kommune"]
    assert "3. Tom" not in views["Kommune"]
    assert "Fucking Flink &amp; Co" in views["Erhvervsliv"]  # escaped
    src = views["Erhvervsliv"].split('src="data:image/svg+xml;base64,')[1].split('"')[0]
    assert b"<svg" in base64.b64decode(src)[:400]  # sharp at any size (issue 15)
    assert 'alt="Søjlediagram' in views["Erhvervsliv"]


def test_sector_views_share_one_x_axis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sector's figure gets the same axis, so sectors can be compared (issue 15)."""
    from plusdig.present import figures

    seen = []
    real = figures.sector_activities

    def spy(*args, **kwargs):
        seen.append(kwargs.get("x_max"))
        return real(*args, **kwargs)

    monkeypatch.setattr(figures, "sector_activities", spy)
    widgets.sector_views(PARTNERS, LABELS, SECTORS)
    most = int(PARTNERS.groupby(["sector", "activity_id"]).size().max())
    assert seen == [most] * len(seen) and len(seen) == 2
    fig = real(PARTNERS, "business", LABELS, "Erhvervsliv", x_max=7)
    assert fig.axes[0].get_xlim()[1] >= 7


def test_explorer_links_dropdown_to_stack() -> None:
    box = widgets.explorer({"A": "<p>a</p>", "B": "<p>b</p>"}, "Vælg:")
    dropdown, stack = box.children
    assert isinstance(dropdown, w.Dropdown) and isinstance(stack, w.Stack)
    assert [c.value for c in stack.children] == ["<p>a</p>", "<p>b</p>"]
    from ipywidgets.widgets.widget_link import Link

    link = box.link  # a JavaScript link (not a Python observer): works without a kernel
    assert isinstance(link, Link)
    assert link.source == (dropdown, "index") and link.target == (stack, "selected_index")
    with pytest.raises(ValueError):
        widgets.explorer({}, "x")


def test_bundle_has_widget_png_and_text() -> None:
    box = widgets.explorer({"A": "<p>a</p>"}, "Vælg:")
    bundle = widgets.widget_bundle(box, PNG + b"rest", "Udforsker")
    assert bundle[widgets.WIDGET_MIME]["model_id"] == box.model_id
    assert base64.b64decode(bundle["image/png"]).startswith(PNG)
    assert bundle["text/plain"] == "Udforsker"


def test_show_displays_raw_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    fig, ax = plt.subplots()
    plt.close(fig)
    box = widgets.explorer({"A": "<p>a</p>"}, "Vælg:")
    widgets.show(box, fig, "Udforsker")
    (bundle, raw), = shown
    assert raw is True and set(bundle) == {widgets.WIDGET_MIME, "image/png", "text/plain"}


def test_with_fallback_formats_as_the_full_bundle() -> None:
    from IPython.core.formatters import format_display_data

    fig, ax = plt.subplots()
    plt.close(fig)
    box = widgets.explorer({"A": "<p>a</p>"}, "Vælg:")
    data, _meta = format_display_data(widgets.with_fallback(box, fig, "Udforsker"))
    assert data[widgets.WIDGET_MIME]["model_id"] == box.model_id
    assert base64.b64decode(data["image/png"]).startswith(PNG)
    assert data["text/plain"] == "Udforsker"
