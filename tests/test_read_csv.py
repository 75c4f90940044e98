"""``read_csv`` from server.api, with oTree 6.0.15's output as the expected value (measured
with ``otree.api.read_csv`` and an ExtraModel of the same fields on the same files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.api import Currency, models, read_csv
from server.config import load_settings
from server.csv_data import CsvDataError, MissingFieldError, _resolve
from server.project import load_project

BOTFAIL = Path(__file__).resolve().parent / "projects" / "botfail"


class Product:
    """oTree's docs use an ExtraModel; any class declaring the fields will do."""

    name = models.StringField()
    price = models.FloatField()
    is_organic = models.BooleanField()
    qty = models.IntegerField()
    cost = models.CurrencyField()


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_typed_by_the_model_as_otree_reads_them(tmp_path):
    path = _write(
        tmp_path,
        "name,price,is_organic,qty,cost\n"
        "Apple,0.99,TRUE,3,1.5\n"
        "Mango,3.79,FALSE,,2\n"
        ",,,,\n"
        "Kiwi,1,yes,0,0.4\n"
        "Fig,2,1,1,2.5\n"
        "Nut,2,true,1,-0.5\n",
    )
    rows = read_csv(str(path), Product)
    assert rows == [
        {"name": "Apple", "price": 0.99, "is_organic": True, "qty": 3, "cost": 2},
        {"name": "Mango", "price": 3.79, "is_organic": False, "qty": None, "cost": 2},
        {"name": "", "price": None, "is_organic": None, "qty": None, "cost": None},
        {"name": "Kiwi", "price": 1.0, "is_organic": False, "qty": 0, "cost": 0},
        {"name": "Fig", "price": 2.0, "is_organic": True, "qty": 1, "cost": 3},
        {"name": "Nut", "price": 2.0, "is_organic": True, "qty": 1, "cost": -1},
    ]
    assert all(isinstance(r["cost"], Currency) for r in rows if r["cost"] is not None)
    assert type(rows[0]["qty"]) is int
    assert type(rows[0]["is_organic"]) is bool


def test_the_docs_example(tmp_path):
    path = _write(tmp_path, "name,price,is_organic\nApple,0.99,TRUE\nMango,3.79,FALSE\n")
    assert read_csv(path, Product) == [
        dict(name="Apple", price=0.99, is_organic=True),
        dict(name="Mango", price=3.79, is_organic=False),
    ]


def test_semicolons_and_a_byte_order_mark(tmp_path):
    path = _write(tmp_path, "\ufeffname;price\nApple;1.5\n")
    assert read_csv(path, Product) == [{"name": "Apple", "price": 1.5}]


def test_quoted_cells_and_spaces_are_kept_as_written(tmp_path):
    path = _write(tmp_path, 'name,price\n"A, b",1e3\n Apple , 2 \n')
    assert read_csv(path, Product) == [
        {"name": "A, b", "price": 1000.0},
        {"name": " Apple ", "price": 2.0},
    ]


def test_a_column_the_model_lacks_is_an_error(tmp_path):
    path = _write(tmp_path, "name,colour\nApple,red\n")
    with pytest.raises(
        MissingFieldError, match="contains column 'colour', which is not found in model Product"
    ):
        read_csv(path, Product)


@pytest.mark.parametrize(
    ("text", "column", "value"),
    [("name,qty\nApple,3.0\n", "qty", "'3.0'"), ("name;price\nApple;0,99\n", "price", "'0,99'")],
)
def test_an_incompatible_value_names_the_column_and_line(tmp_path, text, column, value):
    path = _write(tmp_path, text)
    with pytest.raises(
        CsvDataError,
        match=f"line 2: CSV file contains an incompatible value in column '{column}': {value}",
    ):
        read_csv(path, Product)


def test_one_column_is_read(tmp_path):
    # oTree 6.0.15 fails here ("Could not determine delimiter"); Grove reads it with ",".
    path = _write(tmp_path, "name\nApple\nPear\n")
    assert read_csv(path, Product) == [{"name": "Apple"}, {"name": "Pear"}]


def test_a_ragged_row_is_an_error_naming_the_line(tmp_path):
    path = _write(tmp_path, "name,qty\nApple,3\nPear\n")
    with pytest.raises(CsvDataError, match="line 3: the row has no cell for column 'qty'"):
        read_csv(path, Product)


def test_an_app_model_gives_the_types(tmp_path):
    player_cls = load_project(load_settings(BOTFAIL, {})).apps["quiz"].player_cls
    path = _write(tmp_path, "answer,round_number\n2,1\n,3\n")
    assert read_csv(path, player_cls) == [
        {"answer": 2, "round_number": 1},
        {"answer": None, "round_number": 3},
    ]


def test_a_model_without_fields_is_a_type_error(tmp_path):
    path = _write(tmp_path, "name\nApple\n")
    with pytest.raises(TypeError, match="read_csv"):
        read_csv(path, dict(name=str))


def test_an_apps_relative_path_is_found_beside_the_app(tmp_path, monkeypatch):
    # oTree reads 'my_app/data.csv' from the project root, where its app folders are;
    # Grove's app folders are in apps/.
    (tmp_path / "apps" / "my_app").mkdir(parents=True)
    data = _write(tmp_path / "apps" / "my_app", "name\nApple\n")
    caller = str(tmp_path / "apps" / "my_app" / "__init__.py")
    monkeypatch.chdir(tmp_path.parent)
    assert _resolve("my_app/data.csv", caller) == data
    assert _resolve("apps/my_app/data.csv", caller) == tmp_path / "apps" / "my_app" / "data.csv"
    with pytest.raises(FileNotFoundError):
        read_csv("no_app/missing.csv", Product)
