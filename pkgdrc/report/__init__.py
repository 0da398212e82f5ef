"""Report writers: each reads a Report and writes one format; none changes it."""
