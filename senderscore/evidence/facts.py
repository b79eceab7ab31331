"""The facts the findings and the clean-up list read, as group-bys every engine runs.

Rules need per-contact facts (who bounced, who was enrolled again, which domains are typos),
which the cube does not keep. They come from one table of per-enrollment facts (:func:`fact_rows`:
the flags of :func:`senderscore.cube.flag_exprs`, the calendar days, the recipient domain),
built on the engine that checked the rows (pandas data in polars, DuckDB, polars, Spark) and
grouped there: only small tables (a few rows per flagged contact, user or domain) reach pandas.
Every score quoted comes from the same policy and definitions as the score tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import narwhals as nw
import pandas as pd

from ..cube import COUNTS, Cube, cube_query, flag_exprs
from ..load import Opened
from ..load.rules import TYPED, typed
from ..load.scan import ROW
from ..load.validate import collect, typed_rows
from ..load.zones import EPOCH_DAY, day_number
from ..policy import Policy, load_policy
from ..scores import score_table, sender_scores
from .domains import typo_of
from .store import Store

NEVER_ENGAGED_MIN = 3  # ended enrollments without an open, click or reply before a contact counts as unengaged
SUMS = ("ended", "bounced", "replied", "account_replied")
DOMAIN_COLUMNS = {"domain": object, "ended": "int64", "bounced": "int64", "replied": "int64"}


@dataclass(frozen=True)
class BounceFacts:
    """What :meth:`Evidence.bounce_facts` finds, one small table per question."""

    bounced: pd.DataFrame  # user_id, contact_id: the distinct contacts that bounced
    caught: pd.DataFrame  # user_id, the SUMS, contact_id (distinct contacts a clean-up list catches)
    domains: pd.DataFrame  # user_id, domain, ended, bounced: the domains bouncing at the threshold or more
    typos: pd.DataFrame  # user_id, domain: typo domains written to
    dormant: pd.DataFrame  # user_id, contact_id: how many distinct contacts never engaged


@dataclass(frozen=True)
class CleanupFacts:
    """What :meth:`Evidence.cleanup_facts` finds: one row per flagged contact, and its pairs."""

    contacts: pd.DataFrame  # contact_id, enrollments, last_enrolled_at, contact_email, the reasons' facts
    sequences: pd.DataFrame  # contact_id, sequence_id (distinct)
    users: pd.DataFrame  # contact_id, user_id (distinct)


def domain_expr(email: nw.Expr) -> nw.Expr:
    """The recipient domain of a typed (stripped) email: the lower-cased part after the last
    ``@``; '' where there is none."""
    text = email.str.to_lowercase()
    return nw.when(text.str.contains("@", literal=True)).then(text.str.replace_all(r"^.*@", "")).otherwise(nw.lit(""))


def fact_rows(rows: Any, *, date_field: str, users: list[str] | None = None) -> Any:
    """One row per enrollment: ids, email and ``domain``, ``enrolled_at``/``ended_at`` (µs UTC),
    ``day`` (of ``date_field``) and ``enrolled_day`` (days since 1970 in the report zone), the
    0/1 flags ``ended, bounced, replied, account_replied, unsubscribed``, ``bounce_event`` and
    ``unsubscribe_event`` (ended with step_error_type BOUNCED / UNSUBSCRIBED), ``engaged`` (a
    reply, account reply, open or click) and ``personalized`` where the data has it."""
    names = set(rows.collect_schema().names())

    def have(column: str) -> bool:
        return TYPED + column in names

    def days(column: str) -> nw.Expr:
        name = f"{TYPED}{column}_day"
        return nw.col(name) if name in names else nw.lit(None).cast(nw.Int64)

    flags = flag_exprs()
    ended, error = flags["ended"], typed("step_error_type")
    engaged = flags["replied"] | flags["account_replied"]
    for column in ("open_count", "click_count"):
        if have(column):
            engaged = engaged | (typed(column) > 0)
    email = typed("contact_email") if have("contact_email") else nw.lit("")
    if users is not None:
        rows = rows.filter(typed("user_id").is_in(users))
    return rows.select(
        *[typed(c).alias(c) for c in ("user_id", "sequence_id", "contact_id", "enrolled_at")],
        (typed("ended_at") if have("ended_at") else nw.lit(None).cast(nw.Int64)).alias("ended_at"),
        email.alias("contact_email"),
        domain_expr(email).alias("domain"),
        days(date_field).alias("day"),
        days("enrolled_at").alias("enrolled_day"),
        *[flags[c].cast(nw.Int64).alias(c) for c in COUNTS],
        (ended & (error == "BOUNCED")).alias("bounce_event"),
        (ended & (error == "UNSUBSCRIBED")).alias("unsubscribe_event"),
        engaged.cast(nw.Int64).alias("engaged"),
        *([typed("personalized").alias("personalized")] if have("personalized") else []),
        nw.col(ROW),
    )


def never_engaged() -> nw.Expr:
    """Over :meth:`Evidence.contact_facts`: contacts with at least NEVER_ENGAGED_MIN ended
    enrollments and no open, click or reply in any of them."""
    return (nw.col("ended") >= NEVER_ENGAGED_MIN) & (nw.col("engaged") == 0)


@dataclass
class Evidence:
    """The fact rows on their engine, the window, and the scored tables of the window."""

    facts: Any  # a narwhals LazyFrame of :func:`fact_rows`
    cube: Cube
    policy: Policy
    start: dt.date
    end: dt.date
    by_user: pd.DataFrame
    by_user_sequence: pd.DataFrame
    emails: bool = True  # whether the data has contact emails (else no domain table)
    store: Store = field(default_factory=Store, repr=False)  # computes shared frames once, on the engine

    @property
    def counted(self) -> nw.Expr:
        """Ended enrollments whose day falls in the window: those the window's scores count."""
        return (nw.col("ended") == 1) & nw.col("day").is_between(day_number(self.start), day_number(self.end))

    @property
    def until_end(self) -> Any:
        """Fact rows of enrollments enrolled up to the window's end (what the clean-up list reads)."""
        return self.facts.filter(nw.col("enrolled_day") <= day_number(self.end))

    @cached_property
    def _names(self) -> dict[str, dict[str, str]]:
        users, sequences = self.cube.users, self.cube.sequences
        return {
            "user": dict(zip(users["user_id"], users.get("user_name", users["user_id"]))),
            "sequence": dict(zip(sequences["sequence_id"], sequences.get("sequence_name", sequences["sequence_id"]))),
        }

    def user_name(self, user_id: str) -> str:
        """The user's name where the data has one, else the id."""
        return self._names["user"].get(user_id) or str(user_id)

    def sequence_name(self, sequence_id: str) -> str:
        """The sequence's name where the data has one, else the id."""
        return self._names["sequence"].get(sequence_id) or str(sequence_id)

    @cached_property
    def users(self) -> pd.DataFrame:
        """``by_user`` indexed by user_id."""
        return self.by_user.set_index("user_id")

    def has(self, column: str) -> bool:
        return column in self.facts.collect_schema().names()

    @cached_property
    def typos(self) -> pd.Series:
        """Domain -> the well-known domain it is probably a typo of, over the domains enrolled up
        to the window's end (distinct domains from the engine; the matcher runs on each once)."""
        domains = collect(self.until_end.select("domain").unique())["domain"]
        matches = {d: typo_of(d) for d in domains.astype(str)}
        return pd.Series({d: m for d, m in sorted(matches.items()) if m}, dtype=object)

    def _typo_mark(self) -> nw.Expr:
        return nw.col("domain").is_in(list(self.typos.index))

    @cached_property
    def contact_facts(self) -> Any:
        """Per contact enrolled up to the window's end (lazy, on the engine): ``bounced`` and
        ``unsubscribed`` (ever, 0/1), ``typo_domain`` (the smallest typo domain it was written
        to, else null), ``ended`` and ``engaged`` (ended enrollments, and those with engagement)."""
        marked = self.until_end.with_columns(
            nw.when(self._typo_mark()).then(nw.col("domain")).otherwise(nw.lit(None).cast(nw.String)).alias("typo"),
            (nw.col("engaged") * nw.col("ended")).alias("engaged_ended"),
        )
        grouped = marked.group_by("contact_id").agg(
            nw.col("bounced").max(),
            nw.col("unsubscribed").max(),
            nw.col("typo").min().alias("typo_domain"),
            nw.col("ended").sum(),
            nw.col("engaged_ended").sum().alias("engaged"),
        )
        return self.store(grouped)

    def flagged(self) -> Any:
        """:meth:`contact_facts` of the contacts with at least one clean-up reason (lazy)."""
        contacts = self.contact_facts
        reason = (nw.col("bounced") > 0) | (nw.col("unsubscribed") > 0) | ~nw.col("typo_domain").is_null()
        return contacts.filter(reason | never_engaged())

    def event_after(self, event: str) -> Any:
        """Fact rows enrolled after the contact's first ``event`` (``bounce_event`` or
        ``unsubscribe_event``), with ``event_at`` (µs UTC of that first event's end); lazy."""
        first = self.facts.filter(nw.col(event)).group_by("contact_id").agg(nw.col("ended_at").min().alias("event_at"))
        joined = self.facts.join(first, on="contact_id", how="inner")
        return joined.filter(nw.col("enrolled_at") > nw.col("event_at"))

    @cached_property
    def reenrolled(self) -> dict[str, pd.DataFrame]:
        """Enrollments in the window enrolled again after a hard bounce (``BOUNCED``) or an
        unsubscribe (``UNSUBSCRIBED``), with the counts :meth:`rescore` removes."""
        window = nw.col("enrolled_day").is_between(day_number(self.start), day_number(self.end))
        out = {}
        for error, event in (("BOUNCED", "bounce_event"), ("UNSUBSCRIBED", "unsubscribe_event")):
            later = self.event_after(event).filter(window)
            table = collect(
                later.select("user_id", "contact_id", "event_at", *SUMS, self.counted.alias("counted"), ROW)
            )
            out[error] = table.sort_values(ROW, kind="stable").reset_index(drop=True)
        return out

    @cached_property
    def domain_counts(self) -> pd.DataFrame:
        """Ended, bounced and replied enrollments counted in the window, per recipient domain."""
        if not self.emails:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in DOMAIN_COLUMNS.items()})
        counted = self.facts.filter(self.counted)
        grouped = counted.group_by("domain").agg(*[nw.col(c).sum() for c in ("ended", "bounced", "replied")])
        table = collect(grouped)
        return table.astype({c: "int64" for c in ("ended", "bounced", "replied")}).sort_values("domain")

    @cached_property
    def personalisation(self) -> pd.DataFrame:
        """Per user and ``personalized`` (True/False): delivered and replied enrollments in the window."""
        if not self.has("personalized"):
            return pd.DataFrame(columns=["user_id", "personalized", "delivered", "replied"])
        delivered = self.facts.filter(self.counted & (nw.col("bounced") == 0) & ~nw.col("personalized").is_null())
        grouped = delivered.group_by("user_id", "personalized").agg(
            nw.len().alias("delivered"), nw.col("replied").sum()
        )
        return collect(grouped).astype({"delivered": "int64", "replied": "int64"})

    def bounce_facts(self, users: list[str], threshold: float) -> BounceFacts:
        """What a clean-up list catches in the counted enrollments of ``users``: per user, the
        contacts that bounced; the enrollments ``rebounced`` (after the contact's first hard
        bounce) or on a typo domain, summed, with their distinct contacts; the domains with at
        least 3 ended enrollments and a bounce rate of ``threshold`` or more; the typo domains
        written to; and the distinct contacts that never engaged."""
        mine = self.facts.filter(self.counted & nw.col("user_id").is_in(users))
        after = self.event_after("bounce_event").select(ROW, nw.lit(True).alias("rebounced"))
        contacts = self.contact_facts
        dormant = contacts.filter(never_engaged()).select("contact_id", nw.lit(True).alias("dormant"))
        marked = mine.join(after, on=ROW, how="left").join(dormant, on="contact_id", how="left")
        marked = self.store(
            marked.select(
                "user_id",
                "contact_id",
                "domain",
                *SUMS,
                (nw.col("rebounced").fill_null(False) | self._typo_mark()).alias("caught"),
                nw.col("dormant").fill_null(False),
            )
        )
        caught = marked.filter(nw.col("caught")).group_by("user_id")
        by_domain = marked.filter(nw.col("domain") != "").group_by("user_id", "domain")
        by_domain = by_domain.agg(nw.col("ended").sum(), nw.col("bounced").sum())
        rate = (nw.col("bounced") / nw.col("ended")) >= threshold  # the rate as the tables compute it
        dormant = marked.filter(nw.col("dormant")).group_by("user_id").agg(nw.col("contact_id").n_unique())
        return BounceFacts(
            bounced=collect(marked.filter(nw.col("bounced") > 0).select("user_id", "contact_id").unique()),
            caught=_ints(
                collect(caught.agg(*[nw.col(c).sum() for c in SUMS], nw.col("contact_id").n_unique())),
                *SUMS,
                "contact_id",
            ),
            domains=_ints(collect(by_domain.filter((nw.col("ended") >= 3) & rate)), "ended", "bounced"),
            typos=collect(marked.filter(self._typo_mark()).select("user_id", "domain").unique()),
            dormant=_ints(collect(dormant), "contact_id"),
        )

    def cleanup_facts(self) -> CleanupFacts:
        """For the contacts :meth:`flagged`, over their enrollments up to the window's end: per
        contact, the reasons' facts, ``enrollments``, ``last_enrolled_at`` (µs UTC) and the
        ``contact_email`` of its last row in the source; and its distinct sequences and users."""
        flagged = self.flagged()
        wanted = ["contact_id", "contact_email", "enrolled_at", "sequence_id", "user_id", ROW]
        mine = self.until_end.join(flagged.select("contact_id"), on="contact_id", how="semi")
        rows = self.store(mine.select(*wanted))
        last = rows.group_by("contact_id").agg(
            nw.len().alias("enrollments"), nw.col("enrolled_at").max().alias("last_enrolled_at"), nw.col(ROW).max()
        )
        summary = last.join(rows.select(ROW, "contact_email"), on=ROW, how="left").join(flagged, on="contact_id")
        table = _ints(collect(summary.drop(ROW)), "enrollments", "last_enrolled_at", "bounced", "unsubscribed", "ended")
        return CleanupFacts(
            table.sort_values("contact_id", kind="stable").reset_index(drop=True),
            collect(rows.select("contact_id", "sequence_id").unique()),
            collect(rows.select("contact_id", "user_id").unique()),
        )

    def rescore(self, removed: pd.DataFrame) -> pd.DataFrame:
        """Each user's window score had the ``removed`` counted enrollments not been there:
        ``removed`` has ``ended, bounced, replied, account_replied`` summed per ``user_id``
        (index); the result has the score table's columns, per user of ``removed``."""
        before = self.users.loc[removed.index, ["ended", "bounced", "replied"]].astype("int64")
        gone = removed[list(SUMS)].astype("int64")
        replied = gone["replied"] + (gone["account_replied"] if self.policy.count_account_reply else 0)
        after = before - pd.DataFrame({"ended": gone["ended"], "bounced": gone["bounced"], "replied": replied})
        return score_table(after, self.policy)


def gather(
    source: pd.DataFrame | Opened,
    *,
    start: object = None,
    end: object = None,
    date_field: str = "ended_at",
    policy: Policy | str | None = None,
    cube: Cube | None = None,
) -> Evidence:
    """The evidence of a window, on the engine that holds the rows. Blank dates default to the
    data's span (without an end, the window runs to the data's last day, enrollments still
    running included: compliance rules look at when a contact was enrolled, not when it ended).

    ``source`` is a dataset from :func:`senderscore.load.open_dataset` or validated pandas
    enrollments; ``cube`` (default: built from ``source``) decides the users considered.

    Examples
    --------
    >>> from senderscore import generate_sample, load_enrollments
    >>> ev = gather(load_enrollments(generate_sample(rows=2000)).enrollments, start="2026-01-01", end="2026-06-30")
    >>> ev.start.isoformat(), int(ev.domain_counts["ended"].sum()) == int(ev.by_user["ended"].sum())
    ('2026-01-01', True)
    """
    from ..load.windows import parse_window

    policy = load_policy(policy)
    if isinstance(source, pd.DataFrame):
        rows, span = typed_rows(source, policy.timezone)
        zone, store = span.zone, Store()
    else:
        rows, zone, store = source.rows, source.zone, Store(source.validated.dataset.keep)
    date_field = cube.date_field if cube is not None else date_field
    cube = cube or cube_query(rows, date_field=date_field, timezone=zone)
    facts = store(fact_rows(rows, date_field=date_field, users=list(cube.users["user_id"])))
    first, last = parse_window(start, end)
    span = cube.span
    newest = collect(facts.select(nw.col("enrolled_day").max().alias("d")))["d"].iloc[0]
    newest = EPOCH_DAY + dt.timedelta(days=int(newest)) if pd.notna(newest) else None
    first = first or (span[0].date() if span[0] is not None else newest or dt.date.min)
    last = last or max(d for d in (span[1] and span[1].date(), newest) if d is not None)
    by_user = sender_scores(cube, start=first, end=last, by="user", policy=policy)
    by_seq = sender_scores(cube, start=first, end=last, by="user-sequence", policy=policy)
    emails = TYPED + "contact_email" in rows.collect_schema().names()
    return Evidence(facts, cube, policy, first, last, by_user, by_seq, emails=emails, store=store)


def _ints(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``columns`` as int64: DuckDB hands 128-bit sums back as decimals."""
    return table.astype(dict.fromkeys(columns, "int64"))
