"""The artist / album browser on the real window: a real library scanned into a real catalog,
a real player on the fake (ALSA null) device."""
import time

import pytest
from PySide6.QtCore import Qt

from desktop.browser import build_tree
from desktop.librarymodel import COL_TITLE, Row
from tests import media

SPECS = [  # path, tags
    ("Alpha/Tones/1.flac", dict(title="Morning", artist="Alpha", album="Tones", genre="Jazz", track="1")),
    ("Alpha/Tones/2.flac", dict(title="Evening", artist="Alpha", album="Tones", genre="Jazz; Funk", track="2")),
    ("Alpha/Hums/1.flac", dict(title="Hum", artist="Alpha", album="Hums", genre="Rock")),
    ("Beta/1.flac", dict(title="Noise", artist="Beta", album="Noises", genre="reggaeton, latin")),
    ("Comp/1.flac", dict(title="Comp One", artist="Gamma", album="Summer Hits", genre="Pop")),
    ("Comp/2.flac", dict(title="Comp Two", artist="Delta", album="Summer Hits", genre="Pop")),
    ("VA/1.flac", dict(title="Va One", artist="Eps", album="Winter Hits", album_artist="Various Artists")),
    ("Live/1.flac", dict(title="Guest", artist="Zeta", album="Alpha Live", album_artist="Alpha")),
    ("untagged.flac", {}),
]


@pytest.fixture(scope="module")
def browse_folder(tmp_path_factory):
    if not media.have_ffmpeg():
        pytest.skip("ffmpeg is not installed (scripts/dev.sh installs it); fixture media cannot be made")
    root = tmp_path_factory.mktemp("browse")
    for i, (rel, tags) in enumerate(SPECS):
        media.make(root / rel, seconds=1.0, sr=22050, channels=1, kind="tone", freq=200.0 + 40 * i, tags=tags)
    return root


def _start(qapp, qtbot, data, folder=None, size=(1280, 800)):
    from core.playback import Player
    from desktop.app import build

    _a, window, c = build(["--data-dir", str(data)] + ([str(folder)] if folder else []), app=qapp)
    qtbot.addWidget(window)
    holder = {}
    holder["p"] = c.player = Player(tap=lambda b: time.sleep(len(b) / (holder["p"].stream_rate or 44100)))
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    c.start()
    qtbot.waitUntil(lambda: c.library.model.total() == len(SPECS) and not c.library.scanning, timeout=30_000)
    qtbot.waitUntil(lambda: window.browser.model.rowCount() > 1, timeout=10_000)
    return window, c


@pytest.fixture
def app(qapp, qtbot, tmp_path, browse_folder):
    window, c = _start(qapp, qtbot, tmp_path / "data", browse_folder)
    yield window, c
    c.shutdown()


def _titles(c):
    m = c.library.model
    return sorted(m.row_data(r).title for r in range(m.rowCount()))


def _children(panel, *labels):
    m = panel.model
    parent = next(m.index(r, 0) for r in range(m.rowCount()) if m.index(r, 0).data() == labels[0])
    for label in labels[1:]:
        parent = next(m.index(r, 0, parent) for r in range(m.rowCount(parent))
                      if m.index(r, 0, parent).data() == label)
    return panel.labels(parent)


def test_the_tree_groups_artists_and_albums_with_counts(app):
    window, c = app
    panel = window.browser
    assert panel.labels() == ["All music (9)", "Various artists (3)", "Alpha (4)", "Beta (1)", "Unknown artist (1)"]
    assert _children(panel, "Various artists") == ["Summer Hits (2)", "Winter Hits (1)"]  # a folder of artists, and "VA"
    assert _children(panel, "Alpha") == ["Alpha Live (1)", "Hums (1)", "Tones (2)"]  # its album artist's album too
    assert _children(panel, "Unknown artist") == ["No album (1)"]


def test_picking_an_artist_or_album_filters_the_table_with_the_text_and_genre_filters(app, qtbot):
    window, c = app
    panel = window.browser
    panel.select("Alpha")
    qtbot.waitUntil(lambda: len(_titles(c)) == 4, timeout=2000)
    assert _titles(c) == ["Evening", "Guest", "Hum", "Morning"]
    assert window.count_label.text() == "4 of 9 tracks"
    window.filter_edit.setText("tones")
    qtbot.waitUntil(lambda: _titles(c) == ["Evening", "Morning"], timeout=2000)
    window.genre_combo.setCurrentIndex(window.genre_combo.findData("Funk"))  # one value of "Jazz; Funk"
    qtbot.waitUntil(lambda: _titles(c) == ["Evening"], timeout=2000)
    window.filter_edit.clear()
    window.genre_combo.setCurrentIndex(0)
    panel.select("Various artists", "Summer Hits")
    qtbot.waitUntil(lambda: _titles(c) == ["Comp One", "Comp Two"], timeout=2000)
    panel.select("All music")
    qtbot.waitUntil(lambda: len(_titles(c)) == 9, timeout=2000)


def test_the_genre_filter_offers_each_value_of_a_multi_valued_tag(app, qtbot):
    window, c = app
    combo = window.genre_combo
    offered = [combo.itemText(i) for i in range(combo.count())]
    for g in ("Jazz", "Funk", "reggaeton", "latin", "Pop", "Rock"):
        assert g in offered, offered
    assert "Jazz; Funk" not in offered and "reggaeton, latin" not in offered
    combo.setCurrentIndex(combo.findData("latin"))
    qtbot.waitUntil(lambda: _titles(c) == ["Noise"], timeout=2000)
    combo.setCurrentIndex(combo.findData("Jazz"))
    qtbot.waitUntil(lambda: _titles(c) == ["Evening", "Morning"], timeout=2000)


def test_grouped_by_genre_a_track_is_under_each_of_its_genres_and_the_choice_is_remembered(qapp, qtbot, tmp_path,
                                                                                           browse_folder):
    data = tmp_path / "data"
    window, c = _start(qapp, qtbot, data, browse_folder)
    panel = window.browser
    panel.group_combo.setCurrentIndex(panel.group_combo.findData("genre"))
    panel.group_combo.activated.emit(panel.group_combo.currentIndex())  # as a user's pick does
    qtbot.waitUntil(lambda: "latin (1)" in panel.labels(), timeout=5000)
    assert panel.labels() == ["All music (9)", "Funk (1)", "Jazz (2)", "latin (1)", "Pop (2)", "reggaeton (1)",
                              "Rock (1)", "No genre tag (3)"]
    assert _children(panel, "reggaeton") == ["Beta (1)"] and _children(panel, "latin") == ["Beta (1)"]
    assert _children(panel, "Pop") == ["Various artists (2)"]
    panel.select("latin", "Beta")
    qtbot.waitUntil(lambda: _titles(c) == ["Noise"], timeout=2000)
    window.close()
    c.shutdown()
    w2, c2 = _start(qapp, qtbot, data)
    assert w2.browser.group_by() == "genre"
    qtbot.waitUntil(lambda: "latin (1)" in w2.browser.labels(), timeout=5000)
    c2.shutdown()


def test_shown_from_the_view_menu_it_leaves_the_table_readable_and_is_remembered(qapp, qtbot, tmp_path, browse_folder):
    data = tmp_path / "data"
    window, c = _start(qapp, qtbot, data, browse_folder)
    assert not window.browser_dock.isVisible()  # a first start: the table has the room
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View")
    action = next(a for a in view_menu.actions() if a.objectName() == "browserAction")
    assert action.shortcut().toString() == "Ctrl+B"
    table_w = window.library_pane.width()
    action.trigger()
    qtbot.waitUntil(lambda: window.browser_dock.isVisible(), timeout=2000)
    qtbot.wait(300)
    view = window.library_view
    assert (window.width(), window.height()) == (1280, 800)
    assert window.now_playing_dock.isVisible()
    assert view.horizontalHeader().sectionSize(COL_TITLE) >= 250, "the Title column got too narrow"
    assert view.viewport().height() // view.verticalHeader().defaultSectionSize() >= 10
    # the width came from the now-playing panel, down to its minimum, before the table's
    assert window.now_playing_dock.width() >= 240
    assert window.library_pane.width() >= min(table_w, 1280 - 240 - window.browser_dock.width() - 16)
    window.close()
    c.shutdown()
    w2, c2 = _start(qapp, qtbot, data)
    assert w2.browser_dock.isVisible() and w2.browser_action.isChecked()
    w2.browser_action.trigger()
    qtbot.waitUntil(lambda: not w2.browser_dock.isVisible(), timeout=2000)
    c2.shutdown()


def test_enter_on_an_album_plays_it_in_track_order(app, qtbot):
    window, c = app
    if not c.player.available:
        pytest.skip(f"no output device, not even the null one: {c.player.unavailable_reason}")
    panel = window.browser
    panel.select("Alpha", "Tones")
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.playback.current is not None and c.playback.current.title == "Morning", timeout=5000)
    qtbot.waitUntil(lambda: [t.title for t in c.player.queue] == ["Evening"], timeout=5000)


def test_build_tree_keeps_different_albums_of_one_name_apart_by_folder():
    rows = [Row(1, "/m/a/1.flac", "x", "Ann", "Hits", 1.0, ""), Row(2, "/m/b/1.flac", "y", "Bob", "Hits", 1.0, "")]
    nodes = build_tree(rows)
    assert [(n.label, [a.label for a in n.children]) for n in nodes] == [("Ann", ["Hits"]), ("Bob", ["Hits"])]


def test_the_tree_model_passes_the_model_tester_through_rebuilds(qapp, qtlog):
    from PySide6.QtTest import QAbstractItemModelTester

    from desktop.browser import BrowserPanel

    def rows(n):
        return [Row(i, f"/m/{i % 7}/{i}.flac", f"t{i}", f"Artist {i % 7}", f"Album {i % 3}", 1.0,
                    "Rock; Pop" if i % 2 else "Jazz") for i in range(n)]

    panel = BrowserPanel()
    tester = QAbstractItemModelTester(panel.model, QAbstractItemModelTester.FailureReportingMode.Warning)
    panel.set_tree(build_tree(rows(40)), 40)
    panel.tree.expandAll()
    panel.select("Artist 3", "Album 1")
    panel.set_tree(build_tree(rows(30)), 30)  # fewer rows: the same node stays picked
    assert panel.picked_ids() == frozenset(i for i in range(30) if i % 7 == 3 and i % 3 == 1)
    panel.set_tree(build_tree(rows(30), "genre"), 30)  # no such node any more: nothing picked
    assert panel.picked_ids() is None
    assert tester is not None
    assert not [r for r in qtlog.records if "FAIL" in r.message]


def test_an_album_shows_its_cover_and_an_album_without_one_shows_none(qapp, qtbot, tmp_path, browse_folder):
    import shutil

    from tests.desktop.test_covers import RED, jpeg, near

    folder = tmp_path / "lib"
    shutil.copytree(browse_folder, folder)
    (folder / "Alpha" / "Tones" / "cover.jpg").write_bytes(jpeg(RED))  # a folder image
    window, c = _start(qapp, qtbot, tmp_path / "data", folder)
    try:
        m = window.browser.model
        alpha = next(m.index(r, 0) for r in range(m.rowCount()) if m.index(r, 0).data() == "Alpha")
        album = {m.index(r, 0, alpha).data(): m.index(r, 0, alpha) for r in range(m.rowCount(alpha))}
        window.browser.tree.expand(alpha)
        m.data(album["Tones"], Qt.ItemDataRole.DecorationRole)  # asks for it: loaded in the background
        qtbot.waitUntil(lambda: m.data(album["Tones"], Qt.ItemDataRole.DecorationRole) is not None, timeout=10_000)
        pix = m.data(album["Tones"], Qt.ItemDataRole.DecorationRole)
        image = pix.toImage()
        assert max(image.width(), image.height()) == 24
        assert near(image.pixelColor(image.width() // 2, image.height() // 2), RED)
        qtbot.wait(300)
        assert m.data(album["Hums"], Qt.ItemDataRole.DecorationRole) is None  # no picture, no folder image
        assert m.data(alpha, Qt.ItemDataRole.DecorationRole) is None  # artists have no cover
    finally:
        c.shutdown()
