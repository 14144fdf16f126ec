"""The credit file (信用档案): a subject's records, list entries and objections as one reader may see them,
arranged in the sections of the national public credit report. It sits above subjects, records, lists and
objections, which know nothing of it."""
