"""pkgdrc: a design-rule checker for advanced-package layouts.

    import pkgdrc
    report = pkgdrc.check("package.gds", deck="fowlp-2l")
    for rule in report.failed:
        print(rule.id, len(rule.markers))
"""

__version__ = "0.1.0"

from pkgdrc.errors import PkgdrcError  # noqa: E402
from pkgdrc.result import Report, RuleResult  # noqa: E402
from pkgdrc.run import check  # noqa: E402

__all__ = ["PkgdrcError", "Report", "RuleResult", "check", "__version__"]
