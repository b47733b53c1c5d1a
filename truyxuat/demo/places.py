"""Communes and wards of the demo places, after the 1 July 2025 reform (34 provinces, no districts).

Codes and names follow the General Statistics Office's list of new commune-level units
(Công văn 1027/CTK-CSCL, 25 June 2025). The migration seeds only the 34 provinces; the demo
adds these few so addresses can name a commune. Wards (phường) are stored with level "commune".
"""

from __future__ import annotations

from truyxuat.demo.specs import Commune

HA_NOI = "01"
QUANG_NINH = "22"
BAC_NINH = "24"
HAI_PHONG = "31"
HUNG_YEN = "33"
HO_CHI_MINH = "79"
CA_MAU = "96"

COMMUNES: tuple[Commune, ...] = (
    # Bắc Ninh: Lục Ngạn, the lychee country of the former Bắc Giang province.
    Commune("07525", "Phường Chũ", BAC_NINH),
    Commune("07612", "Phường Phượng Sơn", BAC_NINH),
    Commune("07552", "Xã Kiên Lao", BAC_NINH),
    Commune("07603", "Xã Nam Dương", BAC_NINH),
    Commune("07537", "Xã Biên Sơn", BAC_NINH),
    Commune("07582", "Xã Lục Ngạn", BAC_NINH),
    # Quảng Ninh: Hạ Long (squid cake) and Bình Liêu (canna-starch vermicelli).
    Commune("06673", "Phường Bãi Cháy", QUANG_NINH),
    Commune("06685", "Phường Hồng Gai", QUANG_NINH),
    Commune("06838", "Xã Bình Liêu", QUANG_NINH),
    Commune("06856", "Xã Lục Hồn", QUANG_NINH),
    # Cà Mau, which now includes the former Bạc Liêu province.
    Commune("32025", "Phường Tân Thành", CA_MAU),
    Commune("32059", "Xã Khánh An", CA_MAU),
    Commune("32152", "Xã Đầm Dơi", CA_MAU),
    Commune("32128", "Xã Cái Nước", CA_MAU),
    Commune("32206", "Xã Tam Giang", CA_MAU),
    Commune("31825", "Phường Bạc Liêu", CA_MAU),
    Commune("31972", "Xã Gành Hào", CA_MAU),
    # Hưng Yên (dairy factory) and Hà Nội (dairy farms, distribution, retail).
    Commune("12073", "Xã Yên Mỹ", HUNG_YEN),
    Commune("09700", "Xã Ba Vì", HA_NOI),
    Commune("00145", "Phường Long Biên", HA_NOI),
    Commune("00166", "Phường Cầu Giấy", HA_NOI),
)
