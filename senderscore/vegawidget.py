"""A chart widget whose rows change without redrawing the chart: what a filter change needs.

altair's ``JupyterChart`` re-embeds the whole spec on every change (Vega-Lite compiles it again
and Vega lays it out from scratch). This widget embeds a spec once and then hands Vega only the
new rows of its one dataset (a changeset), so a refresh costs the browser a data update. Vega
comes from vl-convert's bundle, inside the widget: nothing is loaded from a CDN.
"""

from __future__ import annotations

import functools
import hashlib

import anywidget
import traitlets

SNIPPET = """
async function render({ model, el }) {
  let view = null;
  const draw = async () => {
    if (view) { view.finalize(); }
    const spec = structuredClone(model.get("spec"));
    spec.datasets = { [model.get("dataset")]: JSON.parse(model.get("rows")) };
    const result = await vegaEmbed(el, spec, { actions: false, renderer: "svg" });
    view = result.view;
    el.dataset.drawn = String(Number(el.dataset.drawn || 0) + 1);
  };
  const update = async () => {
    if (!view) { return; }
    const rows = vega.changeset().remove(() => true).insert(JSON.parse(model.get("rows")));
    await view.change(model.get("dataset"), rows).runAsync();
    el.dataset.updated = String(Number(el.dataset.updated || 0) + 1);
  };
  await draw();
  model.on("change:spec", draw);
  model.on("change:rows", update);
  return () => { if (view) { view.finalize(); } };
}
export default { render };
"""


@functools.cache
def _bundle() -> str:
    """Vega, Vega-Lite and vega-embed with the snippet, bundled by vl-convert once per machine
    (kept in the cache folder under a name that changes with the snippet and the versions)."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    from .cache import kept_text

    version = vl_version_for_vl_convert()
    digest = hashlib.blake2b(f"{SNIPPET}{vl_convert.__version__}{version}".encode(), digest_size=12).hexdigest()
    return kept_text(f"vega-{digest}.js", lambda: vl_convert.javascript_bundle(SNIPPET, vl_version=version))


class VegaChart(anywidget.AnyWidget):
    """A Vega-Lite ``spec`` with one named dataset whose ``rows`` can change cheaply.

    Set ``spec`` (and ``dataset``, its dataset's name) once or when the chart's shape changes;
    set ``rows`` (a JSON array of records) on every refresh.
    """

    spec = traitlets.Dict().tag(sync=True)
    dataset = traitlets.Unicode("rows").tag(sync=True)
    # The rows as JSON text: one string to send, where a list of records would be validated and
    # walked item by item (for binary buffers) on every change.
    rows = traitlets.Unicode("[]").tag(sync=True)

    def __init__(self, **kwargs: object) -> None:
        type(self)._esm = _bundle()
        super().__init__(**kwargs)

    def show(self, spec: dict, rows: str) -> None:
        """Draw ``spec`` (a chart's ``to_dict()`` with one dataset) with ``rows`` (a JSON array of
        records): a new spec is embedded again, the same spec only receives the rows."""
        (name,) = spec.get("datasets", {"rows": None})
        shape = {k: v for k, v in spec.items() if k != "datasets"}
        if shape != self.spec or name != self.dataset:
            with self.hold_sync():
                self.dataset, self.rows, self.spec = name, rows, shape
        else:
            self.rows = rows
