"""pkgdrc: a design-rule checker for advanced-package layouts.

import pkgdrc
report = pkgdrc.check("package.gds", deck="fowlp-2l")
for rule in report.failed:
    print(rule.id, len(rule.markers))
"""

from pkgdrc.decks import load_deck
from pkgdrc.errors import PkgdrcError
from pkgdrc.result import Report, RuleResult
from pkgdrc.run import check
from pkgdrc.version import __version__

__all__ = ["PkgdrcError", "Report", "RuleResult", "check", "load_deck", "__version__"]
