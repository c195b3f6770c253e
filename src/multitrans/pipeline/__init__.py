"""The translation pipeline, one module per stage, in the order a run takes them.

detect (language per document and block) → segment (sentences and protected spans) →
plan (a route per block and target; unique sentences per engine and pair) → run (the
one path from pieces of text to joined translations) → quality (flags) and repair
(retries) → assemble (the result per document) → report (the quality report).
Stages take plain data and return plain data; none touches files.  Imports engines,
config, formats and the document types, never memory, archive or the CLI.
"""
