"""What an upload may make the server do: refused quickly, with a clear message, nothing saved."""

import io
import re
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from cases import importer
from cases.models import AuditEvent, Household, Member
from tests.cases.test_import_county import county_rows_a, template_roll, xlsx


@pytest.fixture
def office(client, town_office):
    client.force_login(town_office)
    return client


def _db_state():
    # Signing in writes an audit event of its own; the import's are about households and members.
    return (Household.objects.count(), Member.objects.count(), AuditEvent.objects.exclude(model="auth.User").count())


def _upload(client, content: bytes):
    started = time.monotonic()
    response = client.post(reverse("import_roll"), {"file": SimpleUploadedFile("花名册.xlsx", content)})
    return response, time.monotonic() - started


def _far_cell_workbook() -> bytes:
    wb = Workbook()
    wb.active["XFD1048576"] = "x"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _with_dimension(content: bytes, ref: str) -> bytes:
    """The same workbook with the sheet's declared dimension rewritten (as some exporters get it wrong)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data)
            target.writestr(info.filename, data)
    return out.getvalue()


def test_it_refuses_a_tiny_file_declaring_a_cell_at_xfd1048576_quickly(office):
    content = _far_cell_workbook()
    assert len(content) < 10_000
    before = _db_state()
    response, seconds = _upload(office, content)
    page = response.content.decode()
    assert seconds < 2
    assert response.status_code == 400
    assert "工作表的范围到第 1048576 行、第 16384 列，超出导入上限" in page
    assert _db_state() == before


def test_it_bounds_reading_when_the_declared_dimension_is_wrong(office):
    content = _with_dimension(_far_cell_workbook(), "A1")
    before = _db_state()
    response, seconds = _upload(office, content)
    assert seconds < 2
    assert "行数超过上限 20000 行（空行也计算在内）" in response.content.decode()
    assert _db_state() == before


def test_it_refuses_cells_past_the_column_limit_even_when_the_dimension_hides_them(office):
    wb = Workbook()
    for row in county_rows_a():
        wb.active.append(row)
    wb.active.cell(row=5, column=importer.MAX_COLUMNS + 5, value="x")
    buffer = io.BytesIO()
    wb.save(buffer)
    before = _db_state()
    response, _ = _upload(office, _with_dimension(buffer.getvalue(), "A1:R9"))
    assert f"第 5 行超过 {importer.MAX_COLUMNS} 列" in response.content.decode()
    assert _db_state() == before


@pytest.mark.parametrize("declared", [None, "A1:R7"], ids=["declared", "hidden"])
def test_it_counts_blank_rows_toward_the_row_limit(office, settings, declared):
    settings.IMPORT_MAX_ROWS = 12
    rows = county_rows_a()[:7]
    assert _upload(office, xlsx(rows).read())[0].status_code == 200  # 7 rows fit
    before = _db_state()
    # The same roll again, which would change nothing, with six blank rows before 孙长林 (now row 13);
    # refused from the declared dimension, or while reading when the dimension says less.
    content = xlsx([*rows[:6], *[[None]] * 6, rows[6]]).read()
    response, _ = _upload(office, _with_dimension(content, declared) if declared else content)
    page = response.content.decode()
    assert response.status_code == 400
    assert "12 行" in page and "空行也计算在内" in page
    assert _db_state() == before


def test_it_refuses_a_zip_bomb_before_unpacking_it(office):
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(template_roll().read()))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        # One more member: 101 MB of zeros, about 100 KB packed.
        with target.open("xl/media/image1.bin", "w") as bomb:
            for _ in range(importer.MAX_UNPACKED_BYTES // (1 << 20) + 1):
                bomb.write(bytes(1 << 20))
    content = out.getvalue()
    assert len(content) < 1_000_000  # well under the 5 MB upload limit
    before = _db_state()
    response, seconds = _upload(office, content)
    page = response.content.decode()
    assert seconds < 2
    assert "文件解压后有 101 MB，超过上限 100 MB" in page
    assert _db_state() == before


def test_it_stops_reading_when_the_time_budget_is_spent(office, monkeypatch):
    monkeypatch.setattr(importer, "READ_SECONDS", 0.0)
    before = _db_state()
    response, _ = _upload(office, template_roll().read())
    assert response.status_code == 400
    assert "读取文件超过 0 秒仍未完成，已停止" in response.content.decode()
    assert _db_state() == before
