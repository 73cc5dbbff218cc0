"""Files made from indicator tables and from the queue: every table as CSV and XLSX
(`tables.py`), the yearly ACI report as XLSX and PDF (`aci_report.py`), the one-page PDF per
commune for the mairie (`commune_sheet.py`), the coordinators' exports of person rows
(`persons.py`). Values come from `Table.shown_rows(masked)` only: masking is never decided here."""
