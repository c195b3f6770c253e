"""Sample input the tests share: the repository's paths and sample article, and sentences both
model runtimes are tested on (mixed lengths, a blank one, a name, numbers).

Lengths differ so that length-sorted batching would show any reordering; the blank
segment must come back blank.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository
ARTICLE = ROOT / "examples" / "em24-2023-10-16-nord-korea-ammunisjon.txt"
NTREX_TEST = ROOT / "tests" / "data" / "ntrex-dev"  # lines 1-100 of NTREX zho-CN and eng
# The real OPUS-MT zh→en Argos package scripts/setup.sh fetches (checksum-verified).
ARGOS_ZH_EN = (Path(os.environ.get("MULTITRANS_TEST_CACHE") or Path.home() / ".cache" / "multitrans-test")
               / "translate-zh_en-1_9.argosmodel")

SEGMENTS = [
    "Nord-Korea har levert mer enn 1.000 containere til Russland.",
    "Hei.",
    "",
    "Været i Oslo blir kaldt i morgen, med snø på Østlandet.",
    "Kim Jong Un",
    "Regjeringen vil legge fram et nytt forslag om skatt på strøm og vannkraft i Norge.",
    "Hva mener du?",
]
