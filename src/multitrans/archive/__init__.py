"""Batch jobs over an archive of articles: the job (discovery, grouping, resume, --check),
its manifest of what each output was made from, and the workers that translate groups.

Drives the pipeline through the api (translate_documents) and the memory; it never
translates by itself.  Workers run in this process, in local processes or as Ray actors.
"""
