"""``python -m convcalc`` is ``convcalc``."""

from .cli import main

main()
