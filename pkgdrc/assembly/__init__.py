"""Assemblies: several layouts (dies, interposer, substrate, heat sink) placed together and checked
across their interfaces. `load_assembly` reads the assembly file, `check_assembly` runs it."""

from pkgdrc.assembly.model import Assembly, load_assembly
from pkgdrc.assembly.run import AssemblyReport, check_assembly, part_report

__all__ = ["Assembly", "AssemblyReport", "check_assembly", "load_assembly", "part_report"]
