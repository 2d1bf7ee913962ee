"""Layer 3: the survey: contract, readers, validation, disclosure control, tables, figures."""
