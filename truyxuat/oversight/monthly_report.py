"""The monthly oversight report as PDF: the dashboard's key figures, tables and charts for one
month, in the reader's language, with a TrueType font that covers Vietnamese.

The charts are the dashboard's own SVG (`oversight.charts`), read by svglib into ReportLab
drawings, so the page, the downloads and the printout never disagree.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.errors import N_, invalid
from truyxuat.i18n import gettext
from truyxuat.oversight.service import dashboard
from truyxuat.oversight.service.dashboard_charts import STATUS_LABELS, chart_tables
from truyxuat.registry.schemas.certifications import vietnam_today
from truyxuat.stamps.printing import find_font

FONT, BOLD = "TruyxuatSans", "TruyxuatSans-Bold"
OCOP_SENTENCE = N_("{with_data} of {products} OCOP products have traceability data ({percent}).")
ORGANIZATION_SENTENCE = N_(
    "{with_data} of {organizations} organizations producing key, OCOP and export goods have "
    "traceability data."
)
KIND_LABELS = {
    "organizations": N_("Organizations"),
    "products": N_("Products"),
    "growing_areas": N_("Growing areas"),
    "packing_houses": N_("Packing houses"),
}


def parse_month(value: str | None, today: date | None = None) -> str:
    """A report month YYYY-MM (default: the last full month), refusing malformed or future ones."""
    today = today or vietnam_today()
    month = (value or "").strip() or dashboard.last_full_month(today)
    try:
        end = dashboard.month_end(month)
    except ValueError:
        raise invalid(["query", "month"], N_("Give the month as YYYY-MM")) from None
    if end.year < 2000 or end.replace(day=1) > today:
        raise invalid(["query", "month"], N_("The month must have started already"))
    return month


def build_report(
    db: Session, principal: Principal, month: str, locale: str, province: str | None = None
) -> bytes:
    """The report of one month (YYYY-MM) for the caller's scope (or one province of it), as
    PDF bytes."""
    # The current month is reported up to today: figures "as of" a future day would be guesses.
    end = min(dashboard.month_end(month), vietnam_today())
    board = dashboard.build_dashboard(db, principal, as_of=end, locale=locale, province=province)
    return render_pdf(board, month, locale)


def _fonts() -> tuple[str, str]:
    """Registers the Vietnamese-capable TrueType font with ReportLab and svglib, once."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from svglib.fonts import register_font

    path = find_font()
    if path is None:  # no such font installed: Helvetica still prints, without diacritics
        return "Helvetica", "Helvetica-Bold"
    bold = path.with_name(path.name.replace(".ttf", "-Bold.ttf").replace("Regular-Bold", "Bold"))
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(path)))
        pdfmetrics.registerFont(TTFont(BOLD, str(bold if bold.is_file() else path)))
        for family in ("DejaVu Sans", "Verdana", "Arial", "sans-serif"):
            register_font(family, rlgFontName=FONT)
            register_font(family, weight="bold", rlgFontName=BOLD)
    return FONT, BOLD


def _drawing(markup: str, width: float) -> Any:
    """An SVG chart as a ReportLab drawing scaled to `width` points."""
    from svglib.svglib import svg2rlg

    # svglib cannot size "100%": give it the viewBox's own width.
    viewbox = markup.split('viewBox="', 1)[1].split('"', 1)[0].split()
    fixed = markup.replace('width="100%"', f'width="{viewbox[2]}" height="{viewbox[3]}"', 1)
    drawing = svg2rlg(io.BytesIO(fixed.encode()))
    assert drawing is not None
    factor = width / drawing.width
    drawing.width, drawing.height = drawing.width * factor, drawing.height * factor
    drawing.scale(factor, factor)
    return drawing


def render_pdf(board: dashboard.Dashboard, month: str, locale: str) -> bytes:
    """Lays the dashboard out on A4 pages."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    regular, bold = _fonts()

    def t(message: str, **params: Any) -> str:
        return gettext(locale, message, **params)

    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor="#444444")
    h1 = ParagraphStyle("h1", parent=body, fontName=bold, fontSize=16, leading=20, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontName=bold, fontSize=12, leading=16, spaceBefore=8)
    width = A4[0] - 30 * mm
    story: list[Any] = [
        Paragraph(escape(t(N_("Monthly oversight report — {month}"), month=month)), h1),
        Paragraph(escape(t(N_("Scope: {scope}"), scope=board.scope.label)), body),
        Paragraph(
            escape(
                t(
                    N_("Figures as of {day}; prepared on {today}."),
                    day=board.as_of.isoformat(),
                    today=vietnam_today().isoformat(),
                )
            ),
            small,
        ),
        Spacer(1, 4 * mm),
    ]

    def table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
        cells = [[Paragraph(escape(str(c)), body) for c in row] for row in rows]
        out = Table(cells, colWidths=widths, repeatRows=1)
        out.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return out

    actions = board.actions
    story += [
        Paragraph(escape(t(N_("What needs action"))), h2),
        table(
            [
                [t(N_("Open alerts")), t(N_("Open violations")), t(N_("Overdue violations"))],
                [actions.open_alerts, actions.open_violations, actions.overdue_violations],
            ]
        ),
        Paragraph(escape(t(N_("Registry"))), h2),
    ]
    rows: list[list[Any]] = [
        [t(N_("Record")), t(N_("Total")), t(N_("By status")), t(N_("Area (ha)"))]
    ]
    for figure in board.registry:
        statuses = ", ".join(
            f"{t(STATUS_LABELS.get(k, k))}: {v}" for k, v in figure.by_status.items()
        )
        rows.append(
            [
                t(KIND_LABELS[figure.kind]),
                figure.total,
                statuses,
                "" if figure.hectares is None else f"{figure.hectares:g}",
            ]
        )
    story.append(table(rows, [38 * mm, 18 * mm, 90 * mm, 24 * mm]))

    ocop = board.ocop
    percent = "—" if ocop.percent is None else f"{ocop.percent:g}%"
    story += [
        Paragraph(escape(t(N_("OCOP coverage"))), h2),
        Paragraph(
            escape(
                t(
                    OCOP_SENTENCE,
                    with_data=ocop.with_data,
                    products=ocop.products,
                    percent=percent,
                )
            ),
            body,
        ),
        Paragraph(escape(" · ".join(f"{x.label} ({x.source})" for x in ocop.targets)), small),
        Paragraph(escape(ocop.definition), small),
        table(
            [[t(N_("OCOP stars")), t(N_("Products")), t(N_("With traceability data"))]]
            + [[s.stars, s.products, s.with_data] for s in ocop.by_stars]
        ),
        Paragraph(escape(t(N_("Organizations producing key, OCOP and export goods"))), h2),
        Paragraph(
            escape(
                t(
                    ORGANIZATION_SENTENCE,
                    with_data=board.organizations_coverage.with_data,
                    organizations=board.organizations_coverage.organizations,
                )
                + (
                    ""
                    if board.organizations_coverage.percent is None
                    else f" ({board.organizations_coverage.percent:g}%)"
                )
            ),
            body,
        ),
        Paragraph(
            escape(
                f"{board.organizations_coverage.target.label}"
                f" ({board.organizations_coverage.target.source}). "
                + board.organizations_coverage.definition
            ),
            small,
        ),
        Paragraph(escape(t(N_("MOIT mandatory product groups"))), h2),
        table(
            [[t(N_("Product group")), t(N_("Products")), t(N_("With the required data")), "%"]]
            + [
                [g.label, g.products, g.with_data, "—" if g.percent is None else f"{g.percent:g}"]
                for g in board.moit
            ]
        ),
    ]
    for chart in chart_tables(board, locale):
        parts: list[Any] = [Spacer(1, 3 * mm), _drawing(chart.svg(locale), width)]
        parts += [Paragraph(escape(note), small) for note in chart.notes]
        story.append(KeepTogether(parts))

    story.append(Paragraph(escape(t(N_("Certificates expiring within 60 days"))), h2))
    if board.expiring_certificates:
        story.append(
            table(
                [
                    [
                        t(N_("Number")),
                        t(N_("Scheme")),
                        t(N_("Organization")),
                        t(N_("Valid until")),
                        t(N_("Days left")),
                    ]
                ]
                + [
                    [c.number, c.scheme, c.org_name, c.valid_to.isoformat(), c.days_left]
                    for c in board.expiring_certificates
                ]
            )
        )
    else:
        story.append(Paragraph(escape(t(N_("No certificate expires within 60 days."))), body))

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.drawString(
            15 * mm,
            8 * mm,
            f"truyxuat · {t(N_('Monthly oversight report — {month}'), month=month)}",
        )
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, str(document.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=t(N_("Monthly oversight report — {month}"), month=month),
        author="truyxuat",
        lang=locale,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
