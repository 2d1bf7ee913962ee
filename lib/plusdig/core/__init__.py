"""Layer 0: errors, paths, Danish formatting and small helpers with no project imports."""
