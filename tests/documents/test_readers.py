"""The files people have: HTML, PDF, reStructuredText and Word next to Markdown; a damaged file is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from colbert_retrieval.cli import main
from colbert_retrieval.documents import read_pages
from colbert_retrieval.documents._readers import html_to_markdown
from colbert_retrieval.errors import InputFormatError

pytest.importorskip("pypdf", reason='pip install "colbert-retrieval[files]"')
pytest.importorskip("docx", reason='pip install "colbert-retrieval[files]"')


def write_pdf(path: Path, pages: list[str]) -> Path:
    """A minimal PDF with one line of Helvetica text per page (offsets computed, as a PDF writer would)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    font = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content.decode()}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Field guide", level=0)
    document.add_heading("Vitamins", level=1)
    document.add_paragraph("Scurvy comes from a lack of vitamin C.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "vitamin", "source"
    document.save(str(path))
    return path


PAGE = """<html><head><title>t</title><script>var tracking = 1;</script></head><body>
<nav><a href="/">Home</a> <a href="/docs">Docs</a></nav>
<main><h1>Scurvy</h1><p>Scurvy comes from a lack of <b>vitamin C</b>.</p>
<h2>Treatment</h2><ul><li>Citrus fruit</li><li>Supplements</li></ul><pre>dose = 100  # mg</pre></main>
<footer>Copyright</footer></body></html>"""


def test_html_keeps_the_main_content_with_its_headings() -> None:
    text = html_to_markdown(PAGE)
    assert text.startswith("# Scurvy") and "## Treatment" in text and "- Citrus fruit" in text
    assert "```\ndose = 100  # mg\n```" in text
    assert "Home" not in text and "Copyright" not in text and "tracking" not in text


def test_pdf_pages_docx_headings(tmp_path: Path) -> None:
    pages = read_pages(write_pdf(tmp_path / "paper.pdf", ["Scurvy and vitamin C", "Statins and cholesterol"]))
    assert [(p.page, p.kind) for p in pages] == [(1, "text"), (2, "text")]
    assert "Statins" in pages[1].text
    (word,) = read_pages(write_docx(tmp_path / "guide.docx"))
    assert word.kind == "markdown" and word.text.startswith("# Field guide\n\n## Vitamins")
    assert "vitamin | source" in word.text


def test_a_damaged_pdf_or_docx_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf")
    with pytest.raises(InputFormatError, match=r"broken\.pdf: not a readable PDF"):
        read_pages(tmp_path / "broken.pdf")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(InputFormatError, match=r"broken\.docx: not a readable DOCX"):
        read_pages(tmp_path / "broken.docx")


def test_index_a_folder_of_mixed_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "notes.md").write_text("# Notes\n\nBM25 scores exact terms.\n")
    (folder / "page.html").write_text(PAGE)
    (folder / "guide.rst").write_text("Guide\n=====\n\nToken pooling merges similar vectors.\n")
    write_pdf(folder / "paper.pdf", ["Statins lower LDL cholesterol"])
    write_docx(folder / "field.docx")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\ngarbage")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n")
    (folder / ".hidden.md").write_text("# not read\n")
    store = str(tmp_path / "store")
    assert main(["index", str(folder), "--path", store]) == 0
    captured = capsys.readouterr()
    assert "Skipped 1 damaged file(s)" in captured.out and "broken.pdf: " in captured.out
    assert "1 files of formats not read: 1 .png" in captured.out
    assert captured.err.count("skipped ") == 1 and "broken.pdf" in captured.err  # one line for the damaged file
    assert ".hidden.md" not in captured.out
    assert main(["search", "cholesterol statins", "--path", store, "-k", "1", "--json"]) == 0
    import json

    hit = json.loads(capsys.readouterr().out)
    assert hit["source"].endswith("paper.pdf") and hit["page"] == 1
    assert main(["search", "citrus fruit treatment", "--path", store, "-k", "1", "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)
    assert hit["source"].endswith("page.html") and hit["section"] == "Scurvy > Treatment"
