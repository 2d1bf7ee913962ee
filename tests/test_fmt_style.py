"""Danish number formatting and the house style."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from plusdig.core import fmt


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (1234.5, 1, "1.234,5"),
    (1200, 0, "1.200"),
    (600000, 0, "600.000"),
    (0.5, 2, "0,50"),
    (-1234, 0, "-1.234"),
    (None, 0, "–"),
    (math.nan, 0, "–"),
])
def test_number(value, decimals, expected) -> None:
    assert fmt.number(value, decimals) == expected


def test_percent() -> None:
    assert fmt.percent(66) == "66 %"
    assert fmt.percent(0.695, 1, share=True) == "69,5 %"
    assert fmt.percent(None) == "–"


def test_approx() -> None:
    assert fmt.approx(600, "ca.") == "ca. 600"
    assert fmt.approx(110, "over") == "over 110"
    assert fmt.approx(1100, None) == "1.100"
    with pytest.raises(ValueError, match="unknown qualifier"):
        fmt.approx(1, "cirka")


def test_house_style_and_danish_axis() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plusdig.present.style import danish_axis, use_house_style

    use_house_style()
    assert matplotlib.rcParams["svg.hashsalt"] == "plusdig"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1500.5])
    danish_axis(ax, decimals=1)
    assert ax.yaxis.get_major_formatter()(1500.5, 0) == "1.500,5"
    danish_axis(ax, percent=True)
    assert ax.yaxis.get_major_formatter()(66, 0) == "66 %"
    plt.close(fig)


def test_import_plusdig_is_light() -> None:
    """`import plusdig` must not pull in pandas, matplotlib, seaborn or networkx."""
    code = ("import sys, plusdig; heavy = [m for m in ('pandas', 'matplotlib', 'seaborn', 'networkx') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
