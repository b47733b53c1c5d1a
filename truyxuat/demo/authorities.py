"""Demo authorities and the platform operator: who approves codes and oversees each province.

Bắc Ninh's Department of Agriculture and Environment grants growing-area and packing-house
codes; Quảng Ninh's Department of Science and Technology runs the OCOP stamp programme; Cà Mau's
department oversees shrimp farming; the Ministry of Industry and Trade (MOIT) is national.
"""

from __future__ import annotations

from truyxuat.auth.models import Role
from truyxuat.demo.places import BAC_NINH, CA_MAU, QUANG_NINH
from truyxuat.demo.specs import Chain, OrgSpec, UserSpec
from truyxuat.registry.models import OrgKind

PLATFORM_CODE = "TRUYXUAT"
"""The demo platform organization; its presence means the demo data is loaded."""

CHAIN = Chain(
    name="authorities",
    orgs=(
        OrgSpec(
            code=PLATFORM_CODE,
            kind=OrgKind.platform,
            name="Ban vận hành nền tảng truyxuat",
            name_en="truyxuat platform operations",
            province_code=None,
            contact_name="Bộ phận hỗ trợ",
            email="hotro@truyxuat.example",
        ),
        OrgSpec(
            code="SNNMT-BN",
            kind=OrgKind.authority,
            name="Sở Nông nghiệp và Môi trường tỉnh Bắc Ninh",
            name_en="Bắc Ninh Department of Agriculture and Environment",
            province_code=BAC_NINH,
            address="Tỉnh Bắc Ninh",
            contact_name="Phòng Trồng trọt và Bảo vệ thực vật",
        ),
        OrgSpec(
            code="SKHCN-QN",
            kind=OrgKind.authority,
            name="Sở Khoa học và Công nghệ tỉnh Quảng Ninh",
            name_en="Quảng Ninh Department of Science and Technology",
            province_code=QUANG_NINH,
            address="Phường Hồng Gai, tỉnh Quảng Ninh",
            commune_code="06685",
            contact_name="Chi cục Tiêu chuẩn Đo lường Chất lượng",
        ),
        OrgSpec(
            code="SNNMT-CM",
            kind=OrgKind.authority,
            name="Sở Nông nghiệp và Môi trường tỉnh Cà Mau",
            name_en="Cà Mau Department of Agriculture and Environment",
            province_code=CA_MAU,
            address="Phường Tân Thành, tỉnh Cà Mau",
            commune_code="32025",
            contact_name="Chi cục Thủy sản",
        ),
        OrgSpec(
            code="BCT",
            kind=OrgKind.authority,
            name="Bộ Công Thương – Vụ Khoa học và Công nghệ",
            name_en="Ministry of Industry and Trade (MOIT) – Department of Science and Technology",
            province_code=None,
            address="Hà Nội",
            website="https://moit.gov.vn",
        ),
    ),
    users=(
        UserSpec(
            "admin@truyxuat.example",
            "Quản trị nền tảng",
            PLATFORM_CODE,
            Role.platform_admin,
            "everything: registers authorities and organizations, sees all data",
        ),
        UserSpec(
            "snnmt.bacninh@truyxuat.example",
            "Nguyễn Thị Thu Hà",
            "SNNMT-BN",
            Role.authority,
            "approves growing-area and packing-house codes in Bắc Ninh (24); reads its data",
        ),
        UserSpec(
            "thanhtra.bacninh@truyxuat.example",
            "Đỗ Minh Tuấn",
            "SNNMT-BN",
            Role.inspector,
            "reads everything in Bắc Ninh (24) for inspections; approves nothing",
        ),
        UserSpec(
            "skhcn.quangninh@truyxuat.example",
            "Phạm Văn Hải",
            "SKHCN-QN",
            Role.authority,
            "oversees Quảng Ninh (22): OCOP products and their producers",
        ),
        UserSpec(
            "snnmt.camau@truyxuat.example",
            "Lê Hoàng Phúc",
            "SNNMT-CM",
            Role.authority,
            "oversees Cà Mau (96) incl. former Bạc Liêu; approves the pending shrimp household",
        ),
        UserSpec(
            "bocongthuong@truyxuat.example",
            "Trần Quốc Khánh",
            "BCT",
            Role.authority,
            "national: reads every province, e.g. the MOIT mandatory groups (processed milk)",
        ),
        UserSpec(
            "qltt@truyxuat.example",
            "Vũ Thị Ngọc Anh",
            "BCT",
            Role.inspector,
            "national market surveillance: reads everything, approves nothing",
        ),
    ),
)
