"""The recommendations list: a long reason is elided to the panel's width (with "…"), not cut
off mid-letter by the list's edge, and it comes back in full when the panel is wide again."""


def test_long_reasons_are_elided_to_the_panel_width(qtbot):
    from desktop.panels import RecommendationsPanel

    panel = RecommendationsPanel()
    qtbot.addWidget(panel)
    reason = ("because you like “Pistachio Ice Cream Ragtime”, “Sweet Waltz 0I_22mi”, “Vibe Ace” · "
              "classical 60%, country 17%, jazz 10%")
    panel.set_items([(1, "P. I. Tchaikovsky: Dance of the Sugar Plum Fairy — Kevin MacLeod", reason),
                     (2, "Short", "jazz 90%")])
    panel.resize(360, 300)
    panel.show()
    qtbot.waitExposed(panel)
    label = panel.list.itemWidget(panel.list.item(0))
    qtbot.waitUntil(lambda: label.plain_lines()[1].endswith("…"), timeout=3000)
    title, shown = label.plain_lines()
    assert title.endswith("…") and shown.startswith("because you like")
    assert label.fontMetrics().horizontalAdvance(shown) <= label.width()
    short = panel.list.itemWidget(panel.list.item(1))
    assert short.plain_lines() == ("Short", "jazz 90%")  # nothing to elide
    panel.resize(1600, 300)
    qtbot.waitUntil(lambda: label.plain_lines()[1] == reason, timeout=3000)
    assert panel.texts()[0].endswith(reason)  # the full text stays available (tooltip, texts())
