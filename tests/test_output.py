
import pytest

from multitrans.output import OutputError, output_path, write_atomic


def test_default_and_static_site_layouts(tmp_path):
    assert output_path(tmp_path, "{lang}/{name}", "article.txt", "nn") == (tmp_path / "nn" / "article.txt").resolve()
    assert output_path(tmp_path, "{stem}.{lang}{ext}", "post.md", "de") == (tmp_path / "post.de.md").resolve()


@pytest.mark.parametrize("layout", ["../{name}", "/etc/{name}", "{lang}/../../x", ""])
def test_layouts_that_leave_the_output_directory_are_refused(tmp_path, layout):
    with pytest.raises(OutputError):
        output_path(tmp_path, layout, "a.txt", "nn")


def test_unknown_layout_field_is_explained(tmp_path):
    with pytest.raises(OutputError, match=r"\{lang\}"):
        output_path(tmp_path, "{language}/{name}", "a.txt", "nn")


def test_atomic_write_leaves_no_temporary_files_and_keeps_bytes(tmp_path):
    path = tmp_path / "deep" / "a.txt"
    write_atomic(path, "æøå\r\nline\n")
    assert path.read_bytes() == "æøå\r\nline\n".encode()
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_text("old", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("multitrans.output.os.replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
