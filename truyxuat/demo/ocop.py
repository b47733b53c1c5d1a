"""Demo chain 2: Quảng Ninh OCOP products — Hạ Long squid cake and Bình Liêu vermicelli.

Quảng Ninh put QR and anti-counterfeit stamps on its OCOP products (90,000 then 135,000
stamps for 164 products of 23 facilities); these two producers are the kind it stamps.
Names, tax codes and GS1 prefixes are made up for the demo.
"""

from __future__ import annotations

from truyxuat.auth.models import Role
from truyxuat.demo.places import QUANG_NINH
from truyxuat.demo.specs import CertSpec, Chain, FacilitySpec, OrgSpec, ProductSpec, UserSpec
from truyxuat.registry.models import CertScheme, CertScope, FacilityKind, OrgKind

UBND_QN = "Ủy ban nhân dân tỉnh Quảng Ninh"
SQUID_DESCRIPTIONS = {
    "vi": "Giã tay từ mực tươi đánh bắt ở vịnh Bái Tử Long, không hàn the; bảo quản đông lạnh "
    "−18 °C, rán vàng trước khi ăn.",
    "en": "Hand-pounded from fresh squid caught in Bái Tử Long Bay, no borax; keep frozen at "
    "−18 °C and fry golden before eating.",
    "zh": "以拜子龙湾新鲜鱿鱼手工捶打制成，不含硼砂；−18°C冷冻保存，食用前煎至金黄。",
}

CHAIN = Chain(
    name="Quảng Ninh OCOP",
    orgs=(
        OrgSpec(
            code="HALONG-FOOD",
            kind=OrgKind.enterprise,
            name="Công ty TNHH Thực phẩm Biển Hạ Long",
            name_en="Hạ Long Sea Foods Co., Ltd.",
            province_code=QUANG_NINH,
            commune_code="06685",
            tax_code="5701938246",
            gs1_prefix="893612730",
            gln_ref=1,
            address="Phố Cao Thắng, phường Hồng Gai, tỉnh Quảng Ninh",
            contact_name="Bùi Thị Thanh Nga",
            phone="0203 3826 318",
        ),
        OrgSpec(
            code="HTX-MIEN-LUCHON",
            kind=OrgKind.cooperative,
            name="Hợp tác xã Miến dong Lục Hồn",
            name_en="Lục Hồn Canna Vermicelli Cooperative",
            province_code=QUANG_NINH,
            commune_code="06856",
            tax_code="5702041185",
            gs1_prefix="893612918",
            gln_ref=1,
            address="Thôn Nà Áng, xã Lục Hồn, tỉnh Quảng Ninh",
            contact_name="Chíu Văn Sáng",
            phone="0203 3878 102",
        ),
    ),
    users=(
        UserSpec(
            "chamuc.halong@truyxuat.example",
            "Bùi Thị Thanh Nga",
            "HALONG-FOOD",
            Role.org_admin,
            "manages the squid-cake producer: OCOP products, factory, shop",
        ),
        UserSpec(
            "mien.binhlieu@truyxuat.example",
            "Chíu Văn Sáng",
            "HTX-MIEN-LUCHON",
            Role.org_admin,
            "manages the vermicelli cooperative: products, workshop, canna fields",
        ),
    ),
    facilities=(
        FacilitySpec(
            key="HALONG-FACTORY",
            org_code="HALONG-FOOD",
            kind=FacilityKind.factory,
            name="Xưởng chế biến chả mực Hạ Long",
            province_code=QUANG_NINH,
            commune_code="06685",
            latitude=20.9541,
            longitude=107.0826,
            address="Phố Cao Thắng, phường Hồng Gai",
            gln_ref=2,
        ),
        FacilitySpec(
            key="HALONG-SHOP",
            org_code="HALONG-FOOD",
            kind=FacilityKind.store,
            name="Cửa hàng chả mực Bãi Cháy",
            province_code=QUANG_NINH,
            commune_code="06673",
            latitude=20.9576,
            longitude=107.0452,
            address="Đường Hạ Long, phường Bãi Cháy",
            gln_ref=3,
        ),
        FacilitySpec(
            key="LUCHON-WORKSHOP",
            org_code="HTX-MIEN-LUCHON",
            kind=FacilityKind.factory,
            name="Xưởng sản xuất miến dong Lục Hồn",
            province_code=QUANG_NINH,
            commune_code="06856",
            latitude=21.5304,
            longitude=107.4266,
            address="Thôn Nà Áng, xã Lục Hồn",
            gln_ref=2,
        ),
        FacilitySpec(
            key="LUCHON-FIELDS",
            org_code="HTX-MIEN-LUCHON",
            kind=FacilityKind.farm,
            name="Vùng trồng dong riềng Lục Hồn",
            province_code=QUANG_NINH,
            commune_code="06856",
            latitude=21.5412,
            longitude=107.4380,
            address="Xã Lục Hồn",
            gln_ref=3,
        ),
    ),
    products=(
        ProductSpec(
            key="SQUID-CAKE-500G",
            org_code="HALONG-FOOD",
            item_ref=1,
            names={
                "vi": "Chả mực Hạ Long – hộp 500 g",
                "en": "Hạ Long squid cake – 500 g box",
                "zh": "下龙鱿鱼饼 – 500克盒装",
            },
            descriptions=SQUID_DESCRIPTIONS,
            category="Thủy sản chế biến",
            ocop_stars=4,
            ocop_year=2024,
            net_content="500 g",
            origin_province_code=QUANG_NINH,
        ),
        ProductSpec(
            key="SQUID-CAKE-1KG",
            org_code="HALONG-FOOD",
            item_ref=2,
            names={
                "vi": "Chả mực Hạ Long – hộp 1 kg",
                "en": "Hạ Long squid cake – 1 kg box",
                "zh": "下龙鱿鱼饼 – 1公斤盒装",
            },
            descriptions=SQUID_DESCRIPTIONS,
            category="Thủy sản chế biến",
            ocop_stars=4,
            ocop_year=2024,
            net_content="1 kg",
            origin_province_code=QUANG_NINH,
        ),
        ProductSpec(
            key="CANNA-VERMICELLI",
            org_code="HTX-MIEN-LUCHON",
            item_ref=1,
            names={
                "vi": "Miến dong Bình Liêu – gói 500 g",
                "en": "Bình Liêu canna-starch vermicelli – 500 g pack",
                "zh": "平辽美人蕉粉丝 – 500克袋装",
            },
            descriptions={
                "vi": "Làm từ tinh bột dong riềng trồng trên đồi Bình Liêu, phơi nắng tự nhiên, "
                "sợi dai, không phẩm màu.",
                "en": "Made from canna starch grown on the Bình Liêu hills, sun-dried; chewy "
                "strands, no colouring.",
                "zh": "以平辽山区种植的美人蕉淀粉制成，自然晾晒，口感筋道，不含色素。",
            },
            category="Miến, bún khô",
            ocop_stars=4,
            ocop_year=2023,
            net_content="500 g",
            origin_province_code=QUANG_NINH,
        ),
    ),
    certifications=(
        CertSpec(
            org_code="HALONG-FOOD",
            scheme=CertScheme.ocop,
            scheme_name="OCOP 4 sao",
            issuer=UBND_QN,
            number="OCOP-QN-2024-0137",
            scope_type=CertScope.product,
            scope_key="SQUID-CAKE-500G",
            issued_days_ago=330,
            valid_days=1095,
        ),
        CertSpec(
            org_code="HALONG-FOOD",
            scheme=CertScheme.ocop,
            scheme_name="OCOP 4 sao",
            issuer=UBND_QN,
            number="OCOP-QN-2024-0138",
            scope_type=CertScope.product,
            scope_key="SQUID-CAKE-1KG",
            issued_days_ago=330,
            valid_days=1095,
        ),
        CertSpec(
            org_code="HALONG-FOOD",
            scheme=CertScheme.haccp,
            scheme_name="HACCP (TCVN 5603:2023)",
            issuer="Công ty TNHH Chứng nhận Chất lượng Hạ Long",
            number="HACCP-QN-2025-0044",
            scope_type=CertScope.facility,
            scope_key="HALONG-FACTORY",
            issued_days_ago=90,
            valid_days=1095,
        ),
        CertSpec(
            org_code="HTX-MIEN-LUCHON",
            scheme=CertScheme.ocop,
            scheme_name="OCOP 4 sao",
            issuer=UBND_QN,
            number="OCOP-QN-2023-0212",
            scope_type=CertScope.product,
            scope_key="CANNA-VERMICELLI",
            issued_days_ago=700,
            valid_days=1095,
        ),
    ),
)
