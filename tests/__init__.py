"""Grove's tests (README, "Tests").

Compiled modules and pytest's rewritten test modules are cached in ``__pycache__`` even where
the environment sets ``PYTHONDONTWRITEBYTECODE`` (``scripts/test.sh`` unsets it as well):
otherwise every pytest call and xdist worker compiles every module and rewrites every test
module's asserts again, about 4 s of CPU each, which put the fast subset over its 30 s. This
package is imported before its ``conftest.py`` and test modules, and pytest reads the flag
for each module it imports.
"""

import sys

sys.dont_write_bytecode = False
