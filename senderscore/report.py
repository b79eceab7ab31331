"""Run the report notebook headless (papermill) and export it to offline HTML (nbconvert).

Writes are atomic: the HTML and the executed notebook go to temporary files first and are
renamed into place only when everything succeeded, so a failed run never leaves a
half-written report nor overwrites the last good one. The executed notebook of a failed
run is kept next to the output, with papermill's error cell, for debugging.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import re
import sys
import threading
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
from papermill.engines import NBClientEngine, papermill_engines

from . import paths
from .context import ReportParams
from .errors import InputError, ReportError
from .files import write_text
from .kernel import take as take_kernel
from .load.windows import parse_window
from .paths import resolve_input
from .report_facts import facts

REMOTE = re.compile(r"<(script|link)\b[^>]*\b(src|href)=[\"']?(https?:)?//[^>]*>(\s*</script>)?", re.IGNORECASE)


@dataclass
class ReportResult:
    """Where the report went."""

    html: Path | None
    notebook: Path | None
    by_user: pd.DataFrame | None = None  # per-user window scores, as the report shows them
    stale: str = ""  # why the data does not cover the window ('' when it does)


def check_parameters(parameters: dict, notebook: Path) -> None:
    """Refuse parameters the notebook does not declare (papermill would only warn)."""
    declared = pm.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise InputError(
            f"unknown report parameter(s) {unknown!r}; {notebook.name} takes {', '.join(sorted(declared))}."
        )


def report_name(
    start: object,
    end: object,
    *,
    input_path: str | Path = "",
    users: list[str] | tuple[str, ...] = (),
    date_field: str = "ended_at",
    name: str = "",
) -> str:
    """The report's file stem: ``name`` when given, else ``sender-score_<input>_<start>_<end>``
    followed by the filters that shape the report (``by-enrolled_at``, ``users-<who>``), so that
    runs over other inputs or filters never write over each other.

    >>> report_name("2026-01-01", "2026-03-31", input_path="exports/q1.csv", users=["Maya Müller"])
    'sender-score_q1_2026-01-01_2026-03-31_users-maya-muller'
    """
    if name:
        if not re.fullmatch(r"[^/\\\x00-\x1f]+", name) or name.startswith("."):
            raise InputError(f"name {name!r}: expected a file name without folders, e.g. 'team-a-weekly'.")
        return name
    parts = ["sender-score"]
    if input_path:
        parts.append(_slug(Path(str(input_path)).name.split(".")[0]) or "input")
    parts += [str(start), str(end)]
    if date_field != "ended_at":
        parts.append(f"by-{date_field}")
    if users:
        who = "+".join(sorted({_slug(u) for u in users}))
        if len(who) > 40:  # long lists stay short and distinct: a prefix and a digest of the whole
            who = who[:40] + "-" + hashlib.sha1(who.encode()).hexdigest()[:8]
        parts.append(f"users-{who}")
    return "_".join(parts)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_text).strip("-_").lower()


def run_report(
    input_path: str | Path = "",
    *,
    output_dir: str | Path = "reports",
    formats: tuple[str, ...] = ("html",),
    notebook: Path | None = None,
    progress: bool = True,
    name: str = "",
    **options: object,
) -> ReportResult:
    """Execute the report notebook and write ``<name>.html`` (and/or ``.ipynb``): see :func:`report_name`.

    ``options`` are the other :class:`senderscore.context.ReportParams` fields (dates, users,
    policy, engine...). The report is computed once, in the kernel; bad input there raises the
    same :class:`InputError` as ``senderscore score`` here, not a kernel traceback. The file
    name carries the window the report resolved (the data's span where dates were left empty).
    """
    notebook = Path(notebook or paths.REPORT_NOTEBOOK)
    params = ReportParams(input_path, **options)
    path = resolve_input(params.input_path).resolve()
    params = replace(
        params,
        input_path=str(path),
        policy_path=str(Path(params.policy_path).expanduser().resolve()) if params.policy_path else "",
        rejects_path=str(Path(params.rejects_path).resolve()) if params.rejects_path else "",
    )
    parameters = {**asdict(params), "users": list(params.users), "output_dir": str(output_dir)}
    start_date, end_date, date_field, users = params.start_date, params.end_date, params.date_field, params.users
    check_parameters(parameters, notebook)
    first, last = parse_window(start_date, end_date)  # bad dates fail before the kernel starts
    out_dir = Path(output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    naming = {"input_path": path, "users": list(users or []), "date_field": date_field, "name": name}
    _import_exporter()
    executed = _execute(
        notebook, parameters, out_dir, report_name(first or "first", last or "last", **naming), progress
    )
    _stable_ids(executed)
    found = facts(executed)
    stem = report_name(found.get("start") or first, found.get("end") or last, **naming)
    result = ReportResult(None, None, found.get("by_user"), found.get("stale", ""))
    if "html" in formats:
        result.html = _atomic_write(out_dir / f"{stem}.html", export_html(executed))
    if "ipynb" in formats:
        result.notebook = _atomic_write(out_dir / f"{stem}.ipynb", nbformat.writes(with_png(executed)))
    return result


def _import_exporter() -> None:
    """Import nbconvert in a thread while the kernel runs the notebook (this process only waits
    on it then), so that the import is off the report's critical path. Python's import lock
    makes :func:`export_html` wait for it if the thread has not finished."""
    threading.Thread(target=importlib.import_module, args=("nbconvert",), daemon=True).start()


class _SavedAtTheEnd(NBClientEngine):
    """papermill's nbclient engine without its save of the whole notebook at each cell's start
    and end: the report's notebook holds the clean-up list's download (megabytes at a million
    rows), and fifty saves of it cost seconds. papermill still writes it once at the end, with
    the error cell when a cell failed, which is what a failed run keeps."""

    @classmethod
    def execute_notebook(cls, nb: nbformat.NotebookNode, kernel_name: str, **kwargs: object) -> nbformat.NotebookNode:
        return super().execute_notebook(nb, kernel_name, **{**kwargs, "output_path": None})


papermill_engines.register("senderscore", _SavedAtTheEnd)


def _execute(notebook: Path, parameters: dict, out_dir: Path, stem: str, progress: bool) -> nbformat.NotebookNode:
    failed = out_dir / f"{stem}.failed.ipynb"
    kernel = take_kernel(os.getcwd())  # relative paths in the notebook mean what they mean to the caller
    try:
        scratch = kernel.folder / f"{stem}.ipynb"
        try:
            return pm.execute_notebook(
                str(notebook),
                str(scratch),
                parameters=parameters,
                progress_bar=progress,
                kernel_name=kernel.manager.kernel_name,
                km=kernel.manager,
                engine_name="senderscore",
            )
        except pm.PapermillExecutionError as exc:
            if exc.ename in ("InputError", "PolicyError"):  # the user's mistake: the message is enough
                raise InputError(exc.evalue) from None
            if scratch.exists():
                os.replace(scratch, failed)
            _relay(kernel.log)
            raise ReportError(
                f"the report notebook failed in cell {exc.exec_count} ({exc.ename}: {exc.evalue}). "
                f"The executed notebook, with the error, is in {failed}; no report was written."
            ) from None
        except Exception:  # the kernel died or could not start: what it said is the clue
            _relay(kernel.log)
            raise
    finally:
        kernel.stop()


def _relay(log: str) -> None:
    """The kernel's own log, on stderr, when a run failed (a run that worked keeps it quiet)."""
    if log:
        print(f"senderscore: the report kernel's log:\n{log}", file=sys.stderr)


def _stable_ids(notebook: nbformat.NotebookNode) -> None:
    """papermill gives its injected parameters cell a random id; a fixed one keeps the same input
    and parameters giving the same HTML, byte for byte."""
    for cell in notebook.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"


def with_png(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy whose SVG charts also carry a PNG: JupyterLab does not show SVG from a notebook it
    does not trust (one run elsewhere, sent by email) and falls back to the chart's text; a PNG
    it shows. The report's HTML outputs use inline styles only, which untrusted views keep."""
    import vl_convert

    copy = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for cell in copy.cells:
        for output in cell.get("outputs", []):
            svg = output.get("data", {}).get("image/svg+xml")
            if svg:
                svg = "".join(svg) if isinstance(svg, list) else svg
                png = vl_convert.svg_to_png(svg, scale=1.5)
                output["data"]["image/png"] = base64.b64encode(png).decode("ascii")
    return copy


def export_html(notebook: nbformat.NotebookNode) -> str:
    """HTML without code cells, without any remote script or stylesheet."""
    exporter = _exporter_class()(
        template_name="offline",
        extra_template_basedirs=[str(paths.TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(notebook)
    # The template already drops remote assets; this is the safety net for any output that adds one.
    return REMOTE.sub("", body)


FOCUSABLE = re.compile(r'<div class="([^"<>]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"<>]*)"')
NO_ALT = re.compile(r"<img\b(?![^>]*\balt=)")


def _exporter_class() -> type:
    """nbconvert's HTML exporter without its BeautifulSoup pass over the finished page, which
    gives every image without one an alternative text and makes the cells' input and output
    areas focusable for keyboard users: the same marks are written here by two regular
    expressions over the template's own tags. The parse and re-serialisation took most of a
    large report's export (see benchmarks/README.md)."""
    from nbconvert import HTMLExporter  # imported while the kernel ran: see _import_exporter

    try:  # the parts of nbconvert 7 that HTMLExporter.from_notebook_node uses before its soup
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    except ImportError:  # another nbconvert: its own exporter, the same page, slower when large
        return HTMLExporter
    if "_init_resources" not in vars(HTMLExporter):  # its own, with the theme and styles inlined
        return HTMLExporter

    class OfflineHTML(HTMLExporter):
        def from_notebook_node(self, nb: nbformat.NotebookNode, resources: dict | None = None, **kw: object) -> tuple:
            # HTMLExporter.from_notebook_node up to its soup: the same filters and resources.
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name", None))
            self.register_filter(
                "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            )
            resources = self._init_resources(resources)
            data_types = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("filter_data_type", data_types)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            html = FOCUSABLE.sub(r'<div class="\1" tabindex="0"', html)
            return NO_ALT.sub('<img alt="No description has been provided for this image"', html), resources

    return OfflineHTML


def _atomic_write(target: Path, text: str) -> Path:
    write_text(target, text, what="report")
    return target
