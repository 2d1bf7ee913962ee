"""Layer 2: presentation: house style, figures, tables, widgets, network drawing."""
