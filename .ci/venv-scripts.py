"""Write the console scripts of the named distributions into the virtual
environment that runs this file, when they are not there.

make tools creates .venv with --system-site-packages, so that pip can
satisfy requirements-dev.txt from packages already installed system-wide
(a machine without PyPI access). pip then installs nothing, and the
scripts (cfn-lint, moto_server) stay in the system's bin, not in
.venv/bin. This writes them there, from the distributions' own entry
points, so that make test runs .venv/bin/cfn-lint either way.

Usage: .venv/bin/python .ci/venv-scripts.py cfn-lint moto
"""

import os
import sys
from importlib.metadata import distribution


def main(names):
    bindir = os.path.dirname(sys.executable)
    for name in names:
        for ep in distribution(name).entry_points:
            if ep.group != "console_scripts":
                continue
            path = os.path.join(bindir, ep.name)
            if os.path.exists(path):
                continue
            module, _, attr = ep.value.partition(":")
            with open(path, "w") as f:
                f.write(f"#!{sys.executable}\n"
                        "import sys\n"
                        f"from {module} import {attr.split('.')[0]}\n"
                        f"sys.exit({attr}())\n")
            os.chmod(path, 0o755)


if __name__ == "__main__":
    main(sys.argv[1:])
