"""Layer 4: outputs made from a built book: the PDF."""
