"""multitrans: translate articles into many languages, keeping their structure exactly."""

from .api import (
    BlockTranslation,
    DocumentResult,
    detect_document,
    parse_document,
    read_document,
    translate_document,
    translate_documents,
    write_result,
)

__all__ = [
    "BlockTranslation",
    "DocumentResult",
    "detect_document",
    "parse_document",
    "read_document",
    "translate_document",
    "translate_documents",
    "write_result",
]
__version__ = "0.1.0"
