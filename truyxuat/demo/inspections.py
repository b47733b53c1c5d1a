"""The demo inspection: Bắc Ninh's inspector at the Kiên Lao cooperative's orchard.

Twenty days ago the inspector found two breaches. The pesticide diary lacked the pre-harvest
intervals: the growing-area code VN-BNOR-0102 was suspended, the cooperative's record keeper
filled in the diary and the inspector verified it, so the code is approved again. The
traceability records of the packed lots were incomplete: that violation is still open, with
a deadline ten days from the load. Nothing stays suspended, so the demo journeys and
passports are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.oversight.models import InspectionResult, SuspensionTarget, ViolationSeverity
from truyxuat.oversight.service import inspections as service
from truyxuat.registry.models import GrowingArea, Organization

INSPECTOR = "thanhtra.bacninh@truyxuat.example"
RECORD_KEEPER = "nhatky.kienlao@truyxuat.example"
ORG_CODE = "HTX-VT-KIENLAO"
AREA_CODE = "VN-BNOR-0102"
DAYS_AGO = 20
FINDINGS = (
    "Kiểm tra vùng trồng VN-BNOR-0102 và hồ sơ truy xuất nguồn gốc của HTX. Nhật ký sử dụng "
    "thuốc bảo vệ thực vật lô KL260608-0102 không ghi thời gian cách ly; hồ sơ truy xuất các "
    "lô đóng thùng xuất khẩu chưa ghi đủ mã vùng trồng nguồn."
)


@dataclass(frozen=True)
class DemoViolation:
    """One breach found at the demo inspection."""

    rule: str
    description: str
    severity: ViolationSeverity
    deadline_days: int
    suspends_area: bool
    remedy: str = ""
    verification_note: str = ""


VIOLATIONS = (
    DemoViolation(
        rule="TCVN 11892-1:2017 (VietGAP trồng trọt) – ghi chép nhật ký sử dụng thuốc BVTV",
        description="Nhật ký phun thuốc không ghi thời gian cách ly trước thu hoạch.",
        severity=ViolationSeverity.major,
        deadline_days=-DAYS_AGO + 7,
        suspends_area=True,
        remedy="Đã bổ sung thời gian cách ly cho mọi lần phun và tập huấn lại tổ phun thuốc.",
        verification_note="Đã kiểm tra lại nhật ký tại HTX: đầy đủ.",
    ),
    DemoViolation(
        rule="Thông tư 02/2024/TT-BKHCN Điều 5",
        description="Hồ sơ truy xuất của lô đóng thùng chưa ghi đủ mã vùng trồng nguồn.",
        severity=ViolationSeverity.minor,
        deadline_days=10,
        suspends_area=False,
    ),
)


def record(
    session: Session,
    orgs: dict[str, Organization],
    areas: dict[str, GrowingArea],
    inspector: Principal,
    record_keeper: Principal,
) -> int:
    """Records the demo inspection through the oversight service; returns the violations."""
    today = service.today()
    area = areas[AREA_CODE]
    inspection = service.record_inspection(
        session,
        inspector,
        service.InspectionRequest(
            org_id=orgs[ORG_CODE].id,
            inspected_on=today - timedelta(days=DAYS_AGO),
            result=InspectionResult.violations,
            findings=FINDINGS,
            growing_area_id=area.id,
        ),
    )
    for spec in VIOLATIONS:
        violation = service.record_violation(
            session,
            inspector,
            inspection.id,
            service.ViolationRequest(
                rule=spec.rule,
                severity=spec.severity,
                description=spec.description,
                deadline=today + timedelta(days=spec.deadline_days),
                suspends_type=SuspensionTarget.growing_area if spec.suspends_area else None,
                suspends_id=area.id if spec.suspends_area else None,
            ),
        )
        if spec.remedy:
            service.record_remedy(session, record_keeper, violation.id, spec.remedy)
            service.verify_remedy(
                session, inspector, violation.id, accept=True, note=spec.verification_note
            )
    return len(VIOLATIONS)
