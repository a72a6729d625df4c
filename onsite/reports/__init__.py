"""The PDF reports (one module per report, their templates in `templates/reports/`), rendered by
WeasyPrint with an embedded, subset CJK font (`onsite.reports.pdf`)."""
