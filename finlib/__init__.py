"""finlib: invoice ledger analytics with aliased names; the product logic behind the app and the CLI."""
