"""What the report notebook records for its runner, in one place for both sides: the kernel
writes it (:mod:`senderscore.notebook`), ``senderscore report`` reads it back from the executed
notebook (:mod:`senderscore.report`). Light on purpose: the runner then never imports the
kernel's charting stack (altair), nor the kernel the runner's (papermill, nbconvert)."""

from __future__ import annotations

import pandas as pd

META_KEY = "senderscore"  # output metadata that `senderscore report` reads back from the executed notebook
ALERT_COLUMNS = ["user_id", "user_name", "score", "band", "eligible", "reply_rate", "bounce_rate", "ended"]


def facts(notebook: dict) -> dict:
    """What :func:`senderscore.notebook.header` recorded in an executed notebook (``by_user`` as
    a DataFrame); empty when nothing was recorded.

    >>> facts({"cells": []})
    {}
    """
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            found = output.get("metadata", {}).get(META_KEY)
            if found is not None:
                by_user = pd.DataFrame(found["by_user"], columns=ALERT_COLUMNS)
                by_user["user_name"] = by_user["user_name"].fillna("")  # data without names
                return {**found, "by_user": by_user}
    return {}
