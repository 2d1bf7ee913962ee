"""Layer 5: the Sphinx extensions: build and provenance, annex, site, audit, kilde."""
