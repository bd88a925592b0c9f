"""Transport controls: previous / play-pause / stop / next, seek slider with times, volume, like.

A pure view: it emits what the user asked for and shows what it is told.  Position updates
never fight the user: while the seek handle is held, ``set_position`` only remembers the value.

Signals out:
    playPauseClicked(), stopClicked(), previousClicked(), nextClicked()
    seekRequested(float seconds)           released handle, click on the groove, arrow keys
    volumeChanged(int percent 0..100)
    ratingChanged(int)                     +1 liked, -1 disliked, 0 neither (user action only)
    shuffleToggled(bool)                   the shuffle button (user action only)
    repeatClicked()                        the repeat button: the next mode, off → all → one → off
Slots in:
    set_playing(bool), set_duration(seconds), set_position(seconds), set_volume(percent),
    set_rating(int), set_track_loaded(bool), set_shuffle(bool), set_repeat("off" | "all" | "one")

Keyboard: Tab reaches every control in the order shown (buttons take focus from the keyboard
only, so a click leaves the focus where it was); a focused button answers Space, Return and
Enter itself, and a focused slider its arrow keys, before the window's shortcuts (Space
play/pause, ←/→ seek).  Each control has an accessible name and description for screen readers;
the focus ring is in ``resources/style.qss``.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QWidget,
)

from desktop.fmt import format_time
from desktop.resources import std_icon, svg_icon


#: keys a focused control handles itself, before the window's shortcuts
_BUTTON_KEYS = {Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter}
_SLIDER_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp,
                Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End}


def _own_keys(event, keys) -> bool:
    """Whether a ShortcutOverride ``event`` is for one of ``keys`` without Ctrl/Alt/Meta."""
    if event.type() != QEvent.Type.ShortcutOverride:
        return False
    mods = event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier)
    return event.key() in keys and mods == Qt.KeyboardModifier.NoModifier


class TransportButton(QToolButton):
    """A tool button that, once focused, is pressed with Space, Return or Enter."""

    def event(self, event):  # noqa: D102
        if _own_keys(event, _BUTTON_KEYS):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.isAutoRepeat():
            self.animateClick()
            return
        super().keyPressEvent(event)


class JumpSlider(QSlider):
    """A left click on the groove jumps there and starts a drag (instead of paging); once
    focused, it takes its arrow keys before the window's shortcuts."""

    def event(self, event):  # noqa: D102
        if _own_keys(event, _SLIDER_KEYS):
            event.accept()
            return True
        return super().event(event)

    def mousePressEvent(self, event):  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            style = self.style()
            handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
            if not handle.contains(event.position().toPoint()):
                groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self)
                span = max(1, groove.width() - handle.width())
                x = int(event.position().x()) - groove.x() - handle.width() // 2
                value = QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span, opt.upsideDown)
                self.setSliderPosition(value)
        super().mousePressEvent(event)


class TransportBar(QWidget):
    playPauseClicked = Signal()
    stopClicked = Signal()
    previousClicked = Signal()
    nextClicked = Signal()
    seekRequested = Signal(float)
    volumeChanged = Signal(int)
    ratingChanged = Signal(int)
    shuffleToggled = Signal(bool)
    repeatClicked = Signal()

    #: the repeat button's tooltip and icon per mode
    REPEAT_LOOKS = {"off": ("Repeat: off", "repeat"), "all": ("Repeat: all", "repeat-on"),
                    "one": ("Repeat: this track", "repeat-one")}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("transport")
        self._duration = 0.0
        self._volume_before_mute = 80

        def button(icon, tip, name) -> QToolButton:
            b = TransportButton(self)
            b.setObjectName(name)
            b.setIcon(icon)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setIconSize(QSize(22, 22))
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # Tab, not a click: a click leaves the focus where it was
            return b

        SP = QStyle.StandardPixmap
        self.prev_button = button(std_icon(self, SP.SP_MediaSkipBackward), "Previous (Ctrl+Left)", "prevButton")
        self.play_button = button(std_icon(self, SP.SP_MediaPlay), "Play (Space)", "playButton")
        self.play_button.setIconSize(QSize(30, 30))
        self.stop_button = button(std_icon(self, SP.SP_MediaStop), "Stop", "stopButton")
        self.next_button = button(std_icon(self, SP.SP_MediaSkipForward), "Next (Ctrl+Right)", "nextButton")
        self.shuffle_button = button(svg_icon("shuffle", "shuffle-on"), "Shuffle", "shuffleButton")
        self.shuffle_button.setCheckable(True)
        self.shuffle_button.clicked.connect(self.shuffleToggled)
        self.repeat_button = button(svg_icon("repeat"), "Repeat: off", "repeatButton")
        self.repeat_button.clicked.connect(self.repeatClicked)
        self._repeat = "off"
        self.prev_button.clicked.connect(self.previousClicked)
        self.play_button.clicked.connect(self.playPauseClicked)
        self.stop_button.clicked.connect(self.stopClicked)
        self.next_button.clicked.connect(self.nextClicked)

        self.elapsed_label = QLabel("0:00")
        self.total_label = QLabel("0:00")
        for lab in (self.elapsed_label, self.total_label):
            lab.setObjectName("timeLabel")
            lab.setMinimumWidth(44)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.seek_slider = JumpSlider(Qt.Orientation.Horizontal, self)
        self.seek_slider.setObjectName("seekSlider")
        self.seek_slider.setRange(0, 0)
        self.seek_slider.setSingleStep(5000)
        self.seek_slider.setPageStep(30000)
        self.seek_slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.seek_slider.setToolTip("Seek (Left / Right: ±5 s)")
        self.seek_slider.sliderMoved.connect(lambda v: self.elapsed_label.setText(format_time(v / 1000.0)))
        self.seek_slider.sliderReleased.connect(self._on_seek_released)
        self.seek_slider.actionTriggered.connect(self._on_seek_action)

        self.mute_button = button(std_icon(self, SP.SP_MediaVolume), "Mute", "muteButton")
        self.mute_button.setCheckable(True)
        self.mute_button.toggled.connect(self._on_mute)
        self.volume_slider = JumpSlider(Qt.Orientation.Horizontal, self)
        self.volume_slider.setObjectName("volumeSlider")
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(80)
        self.volume_slider.setFixedWidth(110)
        self.volume_slider.setToolTip(self.VOLUME_TIP)
        self.volume_slider.valueChanged.connect(self._on_volume)

        self.like_button = button(svg_icon("heart", "heart-filled"), "Like this track", "likeButton")
        self.dislike_button = button(svg_icon("dislike", "dislike-filled"), "Dislike this track", "dislikeButton")
        for b in (self.like_button, self.dislike_button):
            b.setCheckable(True)
        self.like_button.clicked.connect(lambda on: self._on_rating_clicked(1 if on else 0))
        self.dislike_button.clicked.connect(lambda on: self._on_rating_clicked(-1 if on else 0))

        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(4)
        for w in (self.prev_button, self.play_button, self.stop_button, self.next_button):
            lay.addWidget(w)
        lay.addSpacing(4)
        lay.addWidget(self.shuffle_button)
        lay.addWidget(self.repeat_button)
        lay.addSpacing(8)
        lay.addWidget(self.elapsed_label)
        lay.addWidget(self.seek_slider, 1)
        lay.addWidget(self.total_label)
        lay.addSpacing(8)
        lay.addWidget(self.like_button)
        lay.addWidget(self.dislike_button)
        lay.addSpacing(8)
        lay.addWidget(self.mute_button)
        lay.addWidget(self.volume_slider)
        self._describe()
        self.set_track_loaded(False)

    #: each control's accessible name and description (what a screen reader says)
    ACCESSIBLE = {
        "prev_button": ("Previous track", "Play the previous track, or this one from its start (Ctrl+Left)"),
        "play_button": ("Play", "Play or pause (Space)"),
        "stop_button": ("Stop", "Stop playing (Ctrl+.)"),
        "next_button": ("Next track", "Play the next track (Ctrl+Right)"),
        "shuffle_button": ("Shuffle", "Play the queue in a shuffled order (Ctrl+U)"),
        "repeat_button": ("Repeat: off", "Next repeat mode: off, all, this track (Ctrl+R)"),
        "seek_slider": ("Position", "Where the track is; Left and Right move 5 seconds"),
        "like_button": ("Like", "Like this track (Ctrl+L)"),
        "dislike_button": ("Dislike", "Dislike this track (Ctrl+D)"),
        "mute_button": ("Mute", "Mute or unmute"),
        "volume_slider": ("Volume", "Volume; Ctrl+Up and Ctrl+Down change it from anywhere"),
    }

    def _describe(self) -> None:
        """Accessible names and descriptions, and Tab in the order the controls are shown."""
        order = [getattr(self, attr) for attr in self.ACCESSIBLE]
        for attr, (name, description) in self.ACCESSIBLE.items():
            w = getattr(self, attr)
            w.setAccessibleName(name)
            w.setAccessibleDescription(description)
        for a, b in zip(order, order[1:]):
            QWidget.setTabOrder(a, b)

    # --- slots in ---------------------------------------------------------------------------------
    VOLUME_TIP = "Volume (Ctrl+Up / Ctrl+Down)"

    def set_levelling_text(self, text: str) -> None:
        """What volume levelling does to the playing track, under the volume's tooltip ("" for none)."""
        self.volume_slider.setToolTip(self.VOLUME_TIP + (f"\n{text}" if text else ""))

    def set_playing(self, playing: bool) -> None:
        SP = QStyle.StandardPixmap
        self.play_button.setIcon(std_icon(self, SP.SP_MediaPause if playing else SP.SP_MediaPlay))
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")
        self.play_button.setAccessibleName("Pause" if playing else "Play")

    def set_duration(self, seconds: float) -> None:
        self._duration = max(0.0, float(seconds or 0.0))
        self.seek_slider.setRange(0, int(round(self._duration * 1000)))
        self.total_label.setText(format_time(self._duration))

    def set_position(self, seconds: float) -> None:
        if self.seek_slider.isSliderDown():
            return  # the user holds the handle: do not move it under their finger
        ms = int(round(max(0.0, float(seconds)) * 1000))
        if ms != self.seek_slider.value():
            self.seek_slider.blockSignals(True)
            self.seek_slider.setValue(ms)
            self.seek_slider.blockSignals(False)
        text = format_time(ms / 1000.0)
        if text != self.elapsed_label.text():
            self.elapsed_label.setText(text)

    def position(self) -> float:
        return self.seek_slider.value() / 1000.0

    def duration(self) -> float:
        return self._duration

    def set_volume(self, percent: int) -> None:
        self.volume_slider.setValue(int(percent))  # emits volumeChanged only if it changed

    def volume(self) -> int:
        return self.volume_slider.value()

    def set_rating(self, rating: int) -> None:
        self.like_button.setChecked(rating > 0)
        self.dislike_button.setChecked(rating < 0)

    def rating(self) -> int:
        return 1 if self.like_button.isChecked() else -1 if self.dislike_button.isChecked() else 0

    def set_shuffle(self, on: bool) -> None:
        self.shuffle_button.setChecked(bool(on))
        self.shuffle_button.setToolTip("Shuffle: on" if on else "Shuffle: off")

    def shuffle(self) -> bool:
        return self.shuffle_button.isChecked()

    def set_repeat(self, mode: str) -> None:
        tip, icon = self.REPEAT_LOOKS[mode]
        self._repeat = mode
        self.repeat_button.setIcon(svg_icon(icon))
        self.repeat_button.setToolTip(tip)
        self.repeat_button.setAccessibleName(tip)

    def repeat(self) -> str:
        return self._repeat

    def set_track_loaded(self, loaded: bool) -> None:
        for w in (self.seek_slider, self.like_button, self.dislike_button, self.stop_button):
            w.setEnabled(bool(loaded))
        if not loaded:
            self.set_duration(0.0)
            self.set_position(0.0)
            self.set_rating(0)
            self.set_playing(False)

    # --- internals --------------------------------------------------------------------------------
    def _on_seek_released(self) -> None:
        self.seekRequested.emit(self.seek_slider.value() / 1000.0)

    def _on_seek_action(self, action: int) -> None:
        if self.seek_slider.isSliderDown():
            return  # a drag or a click-jump: sliderReleased reports it
        if action == QSlider.SliderAction.SliderMove.value:
            return
        pos = self.seek_slider.sliderPosition()
        self.elapsed_label.setText(format_time(pos / 1000.0))
        self.seekRequested.emit(pos / 1000.0)

    def _on_volume(self, value: int) -> None:
        SP = QStyle.StandardPixmap
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(value == 0)
        self.mute_button.blockSignals(False)
        self.mute_button.setIcon(std_icon(self, SP.SP_MediaVolumeMuted if value == 0 else SP.SP_MediaVolume))
        self.volumeChanged.emit(int(value))

    def _on_mute(self, muted: bool) -> None:
        if muted:
            self._volume_before_mute = self.volume_slider.value() or self._volume_before_mute
            self.volume_slider.setValue(0)
        else:
            self.volume_slider.setValue(self._volume_before_mute or 80)

    def _on_rating_clicked(self, rating: int) -> None:
        self.set_rating(rating)
        self.ratingChanged.emit(rating)
