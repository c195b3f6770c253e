"""Exchange with translators and their tools: XLIFF 2.1 export and import, TMX 1.4b, and the
side-by-side review page.

Everything here reads or writes a run's results (document.DocumentResult) and the
memory; a translation for export goes through the api like any other run.
"""
