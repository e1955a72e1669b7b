"""Small ledgers shared by test files."""

LEDGER_CSV = """Customer Name,Invoice Date,Invoice No,Total Amount,Payment Date,Sales Manager
ACME Corp,2026-01-05,INV-1,"1,000.00",2026-02-04,Jane Doe
acme corp ,2026-02-05,INV-2,"1,200.00",2026-03-10,Jane Doe
ACME Corp,2026-03-05,INV-3,"1,400.00",,Jane Doe
Beta LLC,2026-01-20,INV-4,500.00,2026-01-30,Omar Khan
Beta LLC,2026-02-20,INV-5,(50.00),2026-02-25,Omar Khan
"""
