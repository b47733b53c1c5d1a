"""What each kind of registry import file may hold: columns, their headers and cell converters.

One small table per kind (organizations, facilities, growing areas, packing houses, products,
certifications): the field each column fills, its Vietnamese header (the English header is the
field name), other accepted names, whether it is required, and how a cell's text becomes a
value. Pure, no database; `imports.py` reads files with these specs.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from truyxuat.errors import N_, invalid
from truyxuat.registry.geometry import geojson_from_wkt_or_text
from truyxuat.registry.models import CertScheme, CertScope, FacilityKind, MoitGroup, OrgKind


class ImportKind(enum.StrEnum):
    """The kinds of master data a file can import."""

    organizations = "organizations"
    facilities = "facilities"
    growing_areas = "growing_areas"
    packing_houses = "packing_houses"
    products = "products"
    certifications = "certifications"


# Row-number columns (“STT”, số thứ tự) head most Vietnamese lists; they carry no data.
ROW_NUMBER_HEADERS = frozenset({"stt", "sothutu", "tt", "no", "#"})

# ---------------------------------------------------------------------------------------------
# Matching text, and cell converters: text → value, raising ValidationFailed


def norm(text: str) -> str:
    """A header or value for matching: NFC, case-folded, '_' as space, no trailing '*'."""
    value = unicodedata.normalize("NFC", text).casefold().strip().rstrip("*").strip()
    return re.sub(r"[\s_]+", " ", value)


def fold(text: str) -> str:
    """`norm` without Vietnamese diacritics (for headers typed without them)."""
    decomposed = unicodedata.normalize("NFD", norm(text).replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def compact(text: str) -> str:
    """`fold` without spaces or punctuation: "Global G.A.P." → "globalgap"."""
    return re.sub(r"[\W_]+", "", fold(text))


def is_row_number_header(header: str) -> bool:
    """True for a row-number column such as “STT”, “Số thứ tự”, “No.” or “#”."""
    return header.strip() == "#" or compact(header) in ROW_NUMBER_HEADERS


def _text(cell: str) -> Any:
    """Keeps a cell's text as it is."""
    return cell


def _number(cell: str) -> Any:
    """Reads a decimal number, accepting the Vietnamese decimal comma."""
    text = cell.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." in text:
        # Whichever separator comes last is the decimal one ("1.234,5" or "1,234.5").
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")  # Vietnamese decimal comma
    try:
        value = float(text)
    except ValueError:
        raise invalid("", N_("“{value}” is not a number"), value=cell) from None
    if not math.isfinite(value):
        raise invalid("", N_("“{value}” is not a number"), value=cell)
    return value


def _integer(cell: str) -> Any:
    """Reads a whole number."""
    value = _number(cell)
    if not float(value).is_integer():
        raise invalid("", N_("“{value}” is not a whole number"), value=cell)
    return int(value)


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")


def _date(cell: str) -> Any:
    """Reads a date written YYYY-MM-DD or DD/MM/YYYY (also with '-' or '.')."""
    text = cell.split(" ")[0] if re.match(r"^\d{4}-\d\d-\d\d[ T]", cell) else cell
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise invalid("", N_("“{value}” is not a date: write YYYY-MM-DD or DD/MM/YYYY"), value=cell)


def _digits_code(width: int) -> Callable[[str], Any]:
    """Restores leading zeros a spreadsheet dropped from a numeric code ("1" → "01")."""

    def convert(cell: str) -> Any:
        """Pads an all-digit code to its width."""
        return cell.zfill(width) if cell.isdigit() else cell

    return convert


def _list(cell: str) -> Any:
    """Splits a cell listing items separated by ',', ';' or new lines."""
    return [part.strip() for part in re.split(r"[;,\n]", cell) if part.strip()]


def _geometry(cell: str) -> Any:
    """Reads GeoJSON text, WKT or a "lat, lon" pair into GeoJSON."""
    return geojson_from_wkt_or_text(cell)


_OWNER = re.compile(r"^(?P<name>[^()]+?)\s*(?:\((?P<extra>[^()]*)\))?$")
_OWNER_AREA = re.compile(r"(\d+(?:[.,]\d+)?)\s*ha\b", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[\d\s.\-]{6,20}$")


def parse_owners(cell: str) -> Any:
    """Reads growers written “Name (phone); Name (phone, 1.5 ha); Name” into owner dicts."""
    owners: list[dict[str, Any]] = []
    for part in re.split(r"[;\n]+", cell):
        part = part.strip()
        if not part:
            continue
        match = _OWNER.match(part)
        if match is None:
            raise invalid(
                "owners",
                N_("Cannot read the owner “{owner}”: write “Name (phone)”, separated by “;”"),
                owner=part,
            )
        owner: dict[str, Any] = {"name": match["name"].strip()}
        extra = match["extra"] or ""
        area = _OWNER_AREA.search(extra)
        if area:
            owner["area_ha"] = float(area.group(1).replace(",", "."))
            extra = extra[: area.start()] + extra[area.end() :]
        phone = extra.strip(" ,;")
        if phone:
            if not _PHONE.match(phone):
                raise invalid(
                    "owners",
                    N_("Cannot read the owner “{owner}”: write “Name (phone)”, separated by “;”"),
                    owner=part,
                )
            owner["phone"] = phone
        owners.append(owner)
    return owners


def _choice(enum_cls: type[enum.Enum], aliases: dict[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """Accepts an enum value or one of its Vietnamese names, ignoring case, accents and spaces."""
    lookup = {compact(str(m.value)): str(m.value) for m in enum_cls}
    for value, names in aliases.items():
        lookup.update({compact(name): value for name in names})
    allowed = ", ".join(str(m.value) for m in enum_cls)

    def convert(cell: str) -> Any:
        """Returns the enum value a cell names, or raises listing the allowed values."""
        found = lookup.get(compact(cell))
        if found is None:
            raise invalid("", N_("“{value}” is not one of: {allowed}"), value=cell, allowed=allowed)
        return found

    return convert


_ORG_KIND = _choice(
    OrgKind,
    {
        "enterprise": ("doanh nghiệp", "công ty", "dn"),
        "cooperative": ("hợp tác xã", "htx"),
        "household": ("hộ gia đình", "hộ kinh doanh", "nông hộ", "hộ"),
        "authority": ("cơ quan quản lý", "cơ quan nhà nước"),
    },
)
_FACILITY_KIND = _choice(
    FacilityKind,
    {
        "farm": ("trang trại", "nông trại", "vườn"),
        "packing_house": ("cơ sở đóng gói", "nhà đóng gói"),
        "factory": ("nhà máy", "xưởng", "cơ sở chế biến"),
        "warehouse": ("kho", "kho lạnh"),
        "store": ("cửa hàng", "siêu thị"),
        "port": ("cảng",),
        "pond": ("ao nuôi", "ao", "đầm"),
        "office": ("văn phòng", "trụ sở"),
        "other": ("khác",),
    },
)
_CERT_SCHEME = _choice(CertScheme, {"organic": ("hữu cơ",), "other": ("khác",)})
_CERT_SCOPE = _choice(
    CertScope,
    {
        "organization": ("tổ chức", "doanh nghiệp"),
        "facility": ("cơ sở",),
        "growing_area": ("vùng trồng",),
        "packing_house": ("cơ sở đóng gói",),
        "product": ("sản phẩm",),
    },
)
_MOIT_GROUP = _choice(
    MoitGroup,
    {
        "beer": ("bia",),
        "alcohol": ("rượu", "đồ uống có cồn"),
        "soft_drinks": ("nước giải khát",),
        "processed_milk": ("sữa chế biến", "sữa"),
        "vegetable_oil": ("dầu thực vật", "dầu ăn"),
        "flour_starch": ("bột và tinh bột", "bột tinh bột"),
        "confectionery": ("bánh kẹo",),
        "food_packaging": ("bao bì thực phẩm", "bao bì"),
    },
)


# ---------------------------------------------------------------------------------------------
# Column specs, one small table per kind


@dataclass(frozen=True)
class Column:
    """One column: the field it fills, its Vietnamese and English headers and other names."""

    field: str
    vi: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    convert: Callable[[str], Any] = _text

    @property
    def en(self) -> str:
        """The English header is the field name itself."""
        return self.field


@dataclass(frozen=True)
class LangColumns:
    """A family of per-language columns (name_vi, name_en, “Tên (zh)”...) filling a dict field."""

    field: str
    en_prefix: str
    vi_prefix: str
    template_langs: tuple[str, ...] = ("vi", "en", "zh")
    required: bool = False

    def header(self, lang: str, locale: str) -> str:
        """The template header for one language."""
        return f"{self.vi_prefix} ({lang})" if locale == "vi" else f"{self.en_prefix}_{lang}"


@dataclass(frozen=True)
class KindSpec:
    """What a file of one kind may hold; `unique` lists field groups unique within a file."""

    kind: ImportKind
    title_vi: str
    columns: tuple[Column | LangColumns, ...]
    unique: tuple[tuple[str, ...], ...] = ()
    # Fields a service reports errors on that the file fills through another column.
    field_columns: tuple[tuple[str, str], ...] = ()

    def template_headers(self, locale: str) -> list[str]:
        """The header row of a blank template in `locale` (vi or en)."""
        headers: list[str] = []
        for column in self.columns:
            if isinstance(column, LangColumns):
                headers.extend(column.header(lang, locale) for lang in column.template_langs)
            else:
                headers.append(column.vi if locale == "vi" else column.en)
        return headers

    def sheet_title(self, locale: str) -> str:
        """The sheet name of a template (readers also pick a sheet by either name)."""
        return self.title_vi if locale == "vi" else self.kind.value


_PROVINCE = Column(
    "province_code", "Mã tỉnh", ("tỉnh", "province", "mã tỉnh/thành phố"), convert=_digits_code(2)
)
_PROVINCE_REQUIRED = dataclasses.replace(_PROVINCE, required=True)
_COMMUNE = Column(
    "commune_code", "Mã xã", ("xã", "commune", "mã xã/phường"), convert=_digits_code(5)
)
_ADDRESS = Column("address", "Địa chỉ")
_GLN = Column("gln", "GLN", ("mã gln", "mã địa điểm toàn cầu"))
_MARKETS = Column(
    "export_markets", "Thị trường xuất khẩu", ("thị trường", "markets"), convert=_list
)

SPECS: dict[ImportKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            ImportKind.organizations,
            "Tổ chức",
            (
                Column("code", "Mã tổ chức", ("mã", "mã đơn vị"), required=True),
                Column("kind", "Loại hình", ("loại", "type"), True, _ORG_KIND),
                Column("name", "Tên tổ chức", ("tên", "tên (vi)", "name vi"), required=True),
                Column("name_en", "Tên tiếng Anh", ("tên (en)", "english name")),
                Column("tax_code", "Mã số thuế", ("mst",)),
                Column(
                    "gs1_company_prefix",
                    "Mã doanh nghiệp GS1",
                    ("tiền tố gs1", "mã gs1", "gs1 prefix", "company prefix", "gcp"),
                ),
                _GLN,
                _PROVINCE,
                _COMMUNE,
                _ADDRESS,
                Column("contact_name", "Người liên hệ", ("contact",)),
                Column("phone", "Điện thoại", ("số điện thoại", "sđt", "tel")),
                Column("email", "Email", ("thư điện tử",)),
                Column("website", "Website", ("trang web",)),
            ),
            unique=(("code",), ("tax_code",), ("gln",)),
        ),
        KindSpec(
            ImportKind.facilities,
            "Cơ sở",
            (
                Column("kind", "Loại cơ sở", ("loại", "type"), True, _FACILITY_KIND),
                Column("name", "Tên cơ sở", ("tên", "tên (vi)", "name vi"), required=True),
                _GLN,
                _PROVINCE,
                _COMMUNE,
                _ADDRESS,
                Column("latitude", "Vĩ độ", ("lat",), convert=_number),
                Column("longitude", "Kinh độ", ("lon", "lng", "long"), convert=_number),
            ),
            unique=(("gln",),),
        ),
        KindSpec(
            ImportKind.growing_areas,
            "Vùng trồng",
            (
                Column("code", "Mã vùng trồng", ("mã số vùng trồng", "mã vùng", "mã"), True),
                Column("name", "Tên vùng trồng", ("tên", "tên vùng")),
                Column("crop", "Cây trồng", ("loại cây",), required=True),
                Column("variety", "Giống", ("giống cây",)),
                Column(
                    "area_ha", "Diện tích (ha)", ("diện tích", "area", "area (ha)"), True, _number
                ),
                Column(
                    "geometry",
                    "Tọa độ",
                    ("toạ độ", "ranh giới", "vị trí", "geojson", "wkt", "polygon"),
                    True,
                    _geometry,
                ),
                _PROVINCE_REQUIRED,
                _COMMUNE,
                _MARKETS,
                Column(
                    "owners", "Chủ hộ", ("chủ sở hữu", "hộ trồng", "owner"), False, parse_owners
                ),
            ),
            unique=(("code",),),
        ),
        KindSpec(
            ImportKind.packing_houses,
            "Cơ sở đóng gói",
            (
                Column("code", "Mã cơ sở đóng gói", ("mã số cơ sở đóng gói", "mã"), True),
                Column("name", "Tên cơ sở đóng gói", ("tên",), required=True),
                Column("facility_gln", "GLN cơ sở", ("gln", "facility gln")),
                Column("crops", "Cây trồng", ("loại quả", "crop"), convert=_list),
                Column(
                    "capacity_tonnes_per_day",
                    "Công suất (tấn/ngày)",
                    ("công suất", "capacity"),
                    convert=_number,
                ),
                _PROVINCE_REQUIRED,
                _COMMUNE,
                _ADDRESS,
                _MARKETS,
            ),
            unique=(("code",),),
            field_columns=(("facility_id", "facility_gln"),),
        ),
        KindSpec(
            ImportKind.products,
            "Sản phẩm",
            (
                Column("gtin", "GTIN", ("mã gtin", "mã vạch", "barcode", "ean"), required=True),
                LangColumns("names", "name", "tên", required=True),
                LangColumns("descriptions", "description", "mô tả"),
                Column("category", "Danh mục", ("loại sản phẩm", "nhóm sản phẩm")),
                Column(
                    "moit_group",
                    "Nhóm bắt buộc (Bộ Công Thương)",
                    ("nhóm bct", "nhóm moit", "moit group"),
                    convert=_MOIT_GROUP,
                ),
                Column("ocop_stars", "Số sao OCOP", ("sao ocop", "ocop"), convert=_integer),
                Column("ocop_year", "Năm công nhận OCOP", ("năm ocop",), convert=_integer),
                Column("net_content", "Khối lượng tịnh", ("định lượng", "thể tích thực")),
                Column(
                    "origin_province_code",
                    "Mã tỉnh xuất xứ",
                    ("tỉnh xuất xứ", "xuất xứ"),
                    convert=_digits_code(2),
                ),
                Column(
                    "temperature_min",
                    "Nhiệt độ bảo quản thấp nhất (°C)",
                    ("nhiệt độ thấp nhất", "nhiệt độ tối thiểu"),
                    convert=_number,
                ),
                Column(
                    "temperature_max",
                    "Nhiệt độ bảo quản cao nhất (°C)",
                    ("nhiệt độ cao nhất", "nhiệt độ tối đa"),
                    convert=_number,
                ),
            ),
            unique=(("gtin",),),
        ),
        KindSpec(
            ImportKind.certifications,
            "Chứng nhận",
            (
                Column(
                    "scheme", "Loại chứng nhận", ("chứng nhận", "tiêu chuẩn"), True, _CERT_SCHEME
                ),
                Column("scheme_name", "Tên chứng nhận", ()),
                Column("issuer", "Tổ chức chứng nhận", ("đơn vị cấp", "nơi cấp"), required=True),
                Column("number", "Số chứng nhận", ("số", "số giấy chứng nhận"), required=True),
                Column("scope_type", "Phạm vi", ("đối tượng", "scope"), True, _CERT_SCOPE),
                Column("scope_code", "Mã đối tượng", ("mã phạm vi",)),
                Column("valid_from", "Ngày cấp", ("hiệu lực từ", "từ ngày"), True, _date),
                Column("valid_to", "Ngày hết hạn", ("hiệu lực đến", "đến ngày"), True, _date),
            ),
            unique=(("scheme", "issuer", "number"),),
            field_columns=(("scope_id", "scope_code"),),
        ),
    )
}
