"""One masking rule for every page and export outside the coordination: counts of 1 to 4 read
"< 5", a rate or median built on such a count is hidden."""

from accesmt.reporting.cells import Change, Count, Days, PerThousand, Rate, Ratio


def test_counts_masked_from_one_to_four_only():
    assert [Count(n).shown(True) for n in (0, 1, 4, 5)] == [0, "< 5", "< 5", 5]
    assert Count(3).shown(False) == 3


def test_rates_hidden_when_either_count_is_small():
    assert Rate(3, 40).shown(True) == "—"
    assert Rate(6, 4).shown(True) == "—"
    assert Rate(10, 40).shown(True) == 25.0
    assert Rate(3, 40).shown(False) == 7.5
    assert Rate(0, 0).shown(False) == "—"
    assert Rate(0, 12).shown(True) == 0.0


def test_medians_per_thousand_ratios_and_changes():
    assert Days(12, 4).shown(True) == "—" and Days(12, 4).shown(False) == 12
    assert PerThousand(3, 2000).shown(True) == "—"
    assert PerThousand(30, 2000).shown(True) == 15.0
    assert Ratio(5000, 3).shown(True) == "—" and Ratio(5000, 5).shown(True) == 1000
    assert Change(12, 10).shown(True) == 20.0
    assert Change(12, 3).shown(True) == "—" and Change(12, 0).shown(False) == "—"
