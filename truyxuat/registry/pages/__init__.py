"""Registry web pages: one module per kind of master data, sharing the registry templates."""

from pathlib import Path

from fastapi import APIRouter

from truyxuat.web.templating import add_template_dir

add_template_dir(Path(__file__).resolve().parent.parent / "templates")

router = APIRouter(include_in_schema=False)
