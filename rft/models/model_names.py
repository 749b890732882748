"""Model names. They become Delta partition values, folder names and SQL literals, so they stay plain.

A module of its own so that code without torch (file imports, for one) can check a name.
"""

import re

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
