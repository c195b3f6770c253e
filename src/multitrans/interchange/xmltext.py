"""What XML 1.0 cannot hold, shared by the formats that write it (XLIFF, TMX)."""

from __future__ import annotations

import re

# Characters an XML 1.0 document cannot contain even escaped: C0 controls other than tab,
# line feed and carriage return, and the non-characters U+FFFE and U+FFFF.
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
