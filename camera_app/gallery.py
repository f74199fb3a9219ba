"""The gallery of taught examples: their crops grouped by class, with dates; delete one.

    gallery = TaughtGallery(parent=window)
    gallery.delete_requested.connect(window.delete_taught)   # the path of the example
    gallery.set_entries(gallery_entries(taught))             # camera_app.teaching
    gallery.show()                                           # not modal: frames go on

The dialog never reads files in bulk on the GUI thread: pictures are read a few at a time
from a timer (at most PICTURE_MILLISECONDS per turn of the event loop), so the live view keeps
showing frames while a large gallery fills in. It changes nothing itself: the window removes
the example and hands back the new entries.
"""

from __future__ import annotations

import time

import cv2
from PyQt5.QtCore import QSize, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QIcon, QImage, QPixmap
from PyQt5.QtWidgets import (QDialog, QHBoxLayout, QLabel, QPushButton, QTreeWidget,
                             QTreeWidgetItem, QVBoxLayout)

from camera_app.teaching import class_label
from segmentation import images as image_files

PICTURE_SIZE = 72  # Side in pixels of a crop in the gallery.
PICTURE_MILLISECONDS = 15  # Longest time spent reading pictures per turn of the event loop.
PATH_ROLE = Qt.UserRole  # Item data: the example's source path ("" on a class row).


def thumbnail(path: str) -> QPixmap:
    """The picture at path fitted into PICTURE_SIZE, or an empty pixmap when unreadable."""
    try:
        image = image_files.fit_tile(image_files.read_image(path), PICTURE_SIZE)
    except (image_files.ImageReadError, cv2.error, ValueError):
        return QPixmap()
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).copy()
    height, width = image.shape[:2]
    return QPixmap.fromImage(QImage(image.data, width, height, 3 * width,
                                    QImage.Format_RGB888).copy())


class TaughtGallery(QDialog):
    """The taught examples grouped by class (rows with crop, date and file name)."""

    # The source path of the example the user asked to delete.
    delete_requested = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Taught examples")
        self.setModal(False)
        self.resize(600, 560)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Example", "Taught"])
        self.tree.setIconSize(QSize(PICTURE_SIZE, PICTURE_SIZE))
        self.tree.setColumnWidth(0, 380)
        self.tree.itemSelectionChanged.connect(self.selection_changed)
        self.summary = QLabel()
        self.delete_button = QPushButton("Delete this example")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self.delete_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self.pictures = {}  # Path -> QPixmap already read (kept across set_entries).
        self.waiting = []  # (item, picture path) whose picture is still to be read.
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self.read_some_pictures)

    def set_entries(self, entries):
        """Shows the entries (camera_app.teaching.GalleryEntry, grouped by class index)."""
        self.tree.clear()
        self.waiting = []
        groups = {}
        for entry in entries:
            group = groups.get(entry.class_index)
            if group is None:
                group = groups[entry.class_index] = QTreeWidgetItem(self.tree)
                group.setData(0, PATH_ROLE, "")
                group.setFlags(Qt.ItemIsEnabled)
                group.setExpanded(True)
            item = QTreeWidgetItem(group, [entry.path.rsplit("/", 1)[-1],
                                           entry.date.strftime("%Y-%m-%d %H:%M:%S")
                                           if entry.date else "?"])
            item.setData(0, PATH_ROLE, entry.path)
            item.setToolTip(0, entry.path)
            if entry.picture in self.pictures:
                item.setIcon(0, QIcon(self.pictures[entry.picture]))
            else:
                self.waiting.append((item, entry.picture))
        for class_index, group in groups.items():
            group.setText(0, class_label(class_index, group.childCount()))
        self.summary.setText(f"{len(entries)} taught example(s). Select one and press "
                             "\"Delete this example\" to remove it." if entries
                             else "No taught examples.")
        self.selection_changed()
        if self.waiting:
            self.timer.start()

    def read_some_pictures(self):
        """Reads waiting pictures for at most PICTURE_MILLISECONDS, then yields."""
        started = time.perf_counter()
        while self.waiting and time.perf_counter() - started < PICTURE_MILLISECONDS / 1000:
            item, picture = self.waiting.pop(0)
            self.pictures[picture] = thumbnail(picture)
            item.setIcon(0, QIcon(self.pictures[picture]))
        if not self.waiting:
            self.timer.stop()

    def selected_path(self) -> str:
        """The source path of the selected example ("" when none)."""
        items = self.tree.selectedItems()
        return items[0].data(0, PATH_ROLE) if items else ""

    def selection_changed(self):
        self.delete_button.setEnabled(bool(self.selected_path()))

    def delete_selected(self):
        if self.selected_path():
            self.delete_requested.emit(self.selected_path())

    def keyPressEvent(self, event):
        if event.key() in (Qt.Key_Delete, Qt.Key_Backspace):
            self.delete_selected()
        else:
            super().keyPressEvent(event)
