"""`python -m pkgdrc` is the `pkgdrc` command."""

from pkgdrc.cli import main

main()
