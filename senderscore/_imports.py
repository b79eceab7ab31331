"""Keep one optional, slow import out of every senderscore process.

jsonschema (imported by nbformat, papermill, nbconvert and altair) loads ``rfc3987_syntax``
when it is installed, only to check the "iri" string format, and that package builds a parser
at import: seconds in the CLI process and again in every report kernel. Nothing here validates
IRIs, so the name is marked absent before jsonschema looks for it; jsonschema then skips that
one format, as it does when the package is not installed. A process that imported it already
keeps it. ``benchmarks/README.md`` has the measured effect on the sample report.
"""

import sys

if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)
