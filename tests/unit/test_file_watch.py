"""FileWatch: a change of inode, mtime or size counts once; a missing file raises OSError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from findsvc.entrypoints.file_watch import FileWatch


@pytest.fixture
def watched(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text("first\n")
    return path


class TestFileWatch:
    def test_unchanged_files_are_not_a_change(self, watched: Path) -> None:
        assert not FileWatch(watched).changed()

    def test_an_edit_in_place_is_a_change_once(self, watched: Path) -> None:
        watch = FileWatch(watched)
        watched.write_text("second, longer\n")
        assert watch.changed()
        assert not watch.changed()

    def test_a_swapped_symlink_is_a_change(self, tmp_path: Path) -> None:
        # As a Kubernetes Secret is updated: a new file, and the link moved onto it.
        first, second, link = tmp_path / "a", tmp_path / "b", tmp_path / "link"
        first.write_text("same\n")
        second.write_text("same\n")
        link.symlink_to(first)
        watch = FileWatch(link)
        staged = tmp_path / "link.new"
        staged.symlink_to(second)
        os.replace(staged, link)
        assert watch.changed()

    def test_looks_at_most_once_every_every_s(self, watched: Path) -> None:
        watch = FileWatch(watched, every_s=3600)
        watched.write_text("second, longer\n")
        assert not watch.changed()  # not looked at yet

    def test_a_file_that_cannot_be_read_raises_oserror(self, watched: Path) -> None:
        watch = FileWatch(watched)
        watched.unlink()
        with pytest.raises(OSError):
            watch.changed()
        with pytest.raises(OSError):
            FileWatch(watched)
