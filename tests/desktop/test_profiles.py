"""Profiles in the app: the picker in the recommendations panel switches whose likes the table
shows and whose recommendations are made; a new profile starts empty; the choice is remembered."""


def _row_of(model, title):
    return next(r for r in range(model.rowCount()) if model.row_data(r).title == title)


def _pick(panel, name):
    combo = panel.profile_combo
    i = combo.findText(name)
    assert i >= 0, f"{name!r} not in the picker"
    combo.setCurrentIndex(i)
    combo.activated.emit(i)  # what a user's choice emits


def test_switching_profile_switches_likes_and_is_remembered(qapp, qtbot, tmp_path, music_folder, monkeypatch):
    from desktop.app import build

    data = str(tmp_path / "data")
    _a, window, c = build(["--data-dir", data, str(music_folder)], app=qapp)
    qtbot.addWidget(window)
    panel = window.recommendations
    c.start()
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    assert panel.profiles() == ["default"] and panel.current_profile() == "default"
    pink = c.library.model.track_id(_row_of(c.library.model, "Pink Noise"))
    hum = c.library.model.track_id(_row_of(c.library.model, "Low Hum"))
    c.library.rate([pink], 1)
    qtbot.waitUntil(lambda: c.catalog.rating(pink, profile="default") == 1, timeout=5000)

    # "New profile…": asks a name, creates it, switches to it; the table shows its (no) likes
    monkeypatch.setattr(panel, "ask_profile_name", lambda: "Anna")
    _pick(panel, panel.NEW_PROFILE)
    qtbot.waitUntil(lambda: panel.current_profile() == "Anna", timeout=5000)
    assert panel.profiles() == ["default", "Anna"] and panel.profile_combo.currentText() == "Anna"
    qtbot.waitUntil(lambda: c.library.model.by_id(pink) is not None and c.library.model.by_id(pink).rating == 0, timeout=5000)
    # a like now is Anna's, not default's
    c.library.rate([hum], 1)
    qtbot.waitUntil(lambda: c.catalog.rating(hum, profile="Anna") == 1, timeout=5000)
    assert c.catalog.rating(hum, profile="default") == 0
    assert c.catalog.rating(pink, profile="Anna") == 0

    # back to default: its like is shown again, Anna's is not
    _pick(panel, "default")
    assert panel.current_profile() == "default"
    qtbot.waitUntil(lambda: c.library.model.by_id(pink).rating == 1 and c.library.model.by_id(hum).rating == 0, timeout=5000)
    # cancelling "New profile…" changes nothing
    monkeypatch.setattr(panel, "ask_profile_name", lambda: None)
    _pick(panel, panel.NEW_PROFILE)
    assert panel.current_profile() == "default" and panel.profile_combo.currentText() == "default"
    assert c.catalog.profile_names() == ["default", "Anna"]

    _pick(panel, "Anna")
    qtbot.waitUntil(lambda: c.library.model.by_id(hum).rating == 1 and c.library.model.by_id(pink).rating == 0, timeout=5000)
    window.close()
    c.shutdown()

    # the next session opens on Anna, with Anna's likes in the table
    _a, w2, c2 = build(["--data-dir", data], app=qapp)
    qtbot.addWidget(w2)
    c2.start()
    qtbot.waitUntil(lambda: c2.library.model.rowCount() == 4, timeout=10_000)
    assert w2.recommendations.current_profile() == "Anna" and c2.profiles.current == "Anna"
    assert c2.library.model.by_id(hum).rating == 1 and c2.library.model.by_id(pink).rating == 0
    qtbot.waitUntil(lambda: not c2.library.scanning, timeout=30_000)
    w2.close()
    c2.shutdown()


def test_the_panel_only_asks_and_tells(qtbot):
    from desktop.panels import RecommendationsPanel

    panel = RecommendationsPanel()
    qtbot.addWidget(panel)
    panel.set_profiles(["default", "Anna", "Bob"], "Bob")
    assert panel.profiles() == ["default", "Anna", "Bob"] and panel.current_profile() == "Bob"
    with qtbot.waitSignal(panel.profileSelected) as sig:
        _pick(panel, "Anna")
    assert sig.args == ["Anna"]
    assert panel.current_profile() == "Bob"  # until the app has switched and says so
    panel.ask_profile_name = lambda: "Cleo"
    with qtbot.waitSignal(panel.profileCreateRequested) as sig:
        _pick(panel, panel.NEW_PROFILE)
    assert sig.args == ["Cleo"] and panel.profile_combo.currentText() == "Bob"


def test_rename_and_remove_a_profile_from_the_picker(qapp, qtbot, tmp_path, music_folder, monkeypatch):
    from desktop.app import build

    _a, window, c = build(["--data-dir", str(tmp_path / "data"), str(music_folder)], app=qapp)
    qtbot.addWidget(window)
    panel = window.recommendations
    c.start()
    qtbot.waitUntil(lambda: c.library.model.rowCount() == 4 and not c.library.scanning, timeout=30_000)
    # the default profile can be neither renamed nor removed: no such entries for it
    assert [panel.profile_combo.itemText(i) for i in range(panel.profile_combo.count())
            if panel.profile_combo.itemText(i).startswith(("Rename", "Remove"))] == []
    c.profiles.create("Anna")
    qtbot.waitUntil(lambda: panel.current_profile() == "Anna", timeout=5000)
    hum = c.library.model.track_id(_row_of(c.library.model, "Low Hum"))
    c.library.rate([hum], 1)
    qtbot.waitUntil(lambda: c.catalog.rating(hum, profile="Anna") == 1, timeout=5000)

    # rename: the likes follow, the picker shows the new name
    monkeypatch.setattr(panel, "ask_new_name", lambda old: "Bea")
    _pick(panel, "Rename “Anna”…")
    qtbot.waitUntil(lambda: panel.current_profile() == "Bea", timeout=5000)
    assert c.catalog.profile_names() == ["default", "Bea"] and c.catalog.rating(hum, profile="Bea") == 1
    assert c.library.model.by_id(hum).rating == 1

    # remove, cancelled: nothing happens; confirmed: gone with its likes, default shown
    monkeypatch.setattr(panel, "confirm_remove", lambda name: False)
    _pick(panel, "Remove “Bea”…")
    assert c.catalog.profile_names() == ["default", "Bea"] and panel.current_profile() == "Bea"
    monkeypatch.setattr(panel, "confirm_remove", lambda name: True)
    _pick(panel, "Remove “Bea”…")
    qtbot.waitUntil(lambda: panel.current_profile() == "default", timeout=5000)
    assert c.catalog.profile_names() == ["default"] and panel.profiles() == ["default"]
    qtbot.waitUntil(lambda: c.library.model.by_id(hum).rating == 0, timeout=5000)
    window.close()
    c.shutdown()
