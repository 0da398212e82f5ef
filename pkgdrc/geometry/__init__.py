"""Geometry shared by all checks: polygon merging, booleans, edge arrays, edge-pair relations.

All coordinates here are database units (whole numbers held in float64).
"""
