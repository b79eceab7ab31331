"""A seeded generator of realistic HubSpot-shaped enrollment exports, from 1k to 10M rows.

The data has what later analyses must find: users under the 100-ended floor, sequences
at or under 101 ended, reply rates from about 2 % to 20 %, bounce rates from about
0.5 % to 9 %, typo domains (gmial.com, ...), contacts enrolled again after a hard bounce
and after unsubscribing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .files import write_bytes

END = pd.Timestamp("2026-10-31T23:59:59", tz="UTC")  # the export's "now": fixed, so runs repeat
DAYS = 365
FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Diego",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
]
LAST = [
    "Becker",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "García",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Müller",
    "Novak",
    "O'Brien",
    "Patel",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Weber",
    "Young",
]
TEAMS = ["EMEA SDR", "NA SDR", "NA AE", "APAC"]
TOPICS = [
    "CFO outbound",
    "Webinar follow-up",
    "Trial nurture",
    "Event invite",
    "Case study push",
    "Re-engagement",
    "Competitor switch",
    "Partner intro",
    "Pricing change",
    "Product launch",
]
CONSUMER = {
    "gmail.com": 0.10,
    "outlook.com": 0.03,
    "hotmail.com": 0.025,
    "yahoo.com": 0.02,
    "icloud.com": 0.01,
    "gmx.de": 0.01,
    "web.de": 0.005,
}
TYPOS = {"gmial.com": 0.004, "hotmial.com": 0.002, "outlok.com": 0.002, "yaho.com": 0.001}
WORDS = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "hooli",
    "vandelay",
    "soylent",
    "aperture",
    "massive",
    "oceanic",
    "pied",
    "virtucon",
    "zorg",
    "nakatomi",
    "gringotts",
]
SUFFIX = [".com", ".io", ".de", ".co.uk", ".net"]
# Unenrollment outcomes of delivered, unreplied enrollments: (source, step_error_type, share).
OTHER_OUTCOMES = [
    ("ACCOUNT_REPLY", "", 0.02),
    ("ACCOUNT_MEETING", "", 0.005),
    ("MEETING", "", 0.01),
    ("ERROR", "UNSUBSCRIBED", 0.012),
    ("MANUAL", "", 0.04),
    ("WORKFLOW", "", 0.02),
    ("ERROR", "OTHER", 0.003),
    ("SEQUENCE_DELETED", "", 0.005),
]


def generate_sample(rows: int = 8024, seed: int = 42) -> pd.DataFrame:
    """Generate exactly ``rows`` enrollments, a few of them re-enrollments, reproducibly from ``seed``.

    Returns canonical columns with UTC timestamps; :func:`write_sample` writes CSV/Parquet.

    >>> frame = generate_sample(rows=1000, seed=3)
    >>> len(frame), bool(frame["state"].isin(["FINISHED", "UNENROLLED", "EXECUTING", "PAUSED"]).all())
    (1000, True)
    """
    if int(rows) < 100:
        raise InputError(f"rows {rows!r}: the sample needs at least 100 rows.")
    rows = int(rows)
    rng = np.random.default_rng(seed)
    base = int(rows // (1 + BOUNCED_SHARE + UNSUBSCRIBED_SHARE))  # the first rows, then the re-enrollments
    users = _users(rng, max(15, base // 20_000))
    sequences = _sequences(rng, max(30, base // 5_000))
    frame = _fresh_after_bounce(_enrollments(rng, base, users, sequences))
    frame = pd.concat([frame, _reenrollments(rng, frame, users, sequences, rows - base)], ignore_index=True)
    frame = frame.sort_values("enrolled_at", kind="stable").reset_index(drop=True)
    frame["enrollment_id"] = (3_000_000_000 + np.arange(len(frame)) * 7 + seed % 7).astype(str)
    # Whether the email used personalisation tokens: drawn last, from its own stream, so every
    # other column stays as it was; replied enrollments were personalised more often.
    extra = np.random.default_rng(seed + 1)
    replied = frame["reply_count"].to_numpy() > 0
    frame["personalized"] = np.where(extra.random(len(frame)) < np.where(replied, 0.7, 0.45), "true", "false")
    return frame[_COLUMNS]


_COLUMNS = [
    "enrollment_id",
    "sequence_id",
    "sequence_name",
    "user_id",
    "user_name",
    "user_email",
    "team",
    "contact_id",
    "contact_email",
    "company_id",
    "enrolled_at",
    "ended_at",
    "state",
    "unenrolled_source",
    "step_error_type",
    "reply_count",
    "open_count",
    "click_count",
    "meeting_count",
    "personalized",
]


def _users(rng: np.random.Generator, n: int) -> pd.DataFrame:
    # Distinct names: a sample with two "Priya Larsen" would confuse every table.
    pairs = rng.permutation(len(FIRST) * len(LAST))[: min(n, len(FIRST) * len(LAST))]
    pairs = np.resize(pairs, n)
    first = [FIRST[i % len(FIRST)] for i in pairs]
    last = [
        LAST[i // len(FIRST)] + (f" {k // (len(FIRST) * len(LAST)) + 1}" if k >= len(FIRST) * len(LAST) else "")
        for k, i in enumerate(pairs)
    ]
    # Reply rates spread over 2-20 %, bounce rates over 0.5-9 %, in shuffled pairs.
    reply = rng.permutation(np.linspace(0.02, 0.17, n))
    bounce = rng.permutation(np.linspace(0.004, 0.06, n))
    weight = rng.lognormal(0, 0.45, n)
    weight[: max(2, n // 8)] = 0.08  # new hires, under the 100-ended floor in a small sample
    return pd.DataFrame(
        {
            "user_id": (51_000_000 + rng.choice(900_000, n, replace=False)).astype(str),
            "user_name": [f"{f} {s}" for f, s in zip(first, last)],
            "user_email": [
                f"{f.lower()}.{s.lower().replace(chr(39), '').replace(' ', '')}@brightwave.io"
                for f, s in zip(first, last)
            ],
            "team": rng.choice(TEAMS, n),
            "reply": reply,
            "bounce": bounce,
            "weight": weight / weight.sum(),
        }
    )


def _sequences(rng: np.random.Generator, n: int) -> pd.DataFrame:
    weight = rng.lognormal(0, 0.8, n)
    weight[: max(3, n // 10)] *= 0.08  # rarely used sequences: at or under the 101-ended floor
    return pd.DataFrame(
        {
            "sequence_id": (7_000_000 + rng.choice(900_000, n, replace=False)).astype(str),
            "sequence_name": [f"{TOPICS[i % len(TOPICS)]} #{i // len(TOPICS) + 1}" for i in range(n)],
            "reply_mult": rng.uniform(0.5, 1.6, n),
            "bounce_mult": rng.uniform(0.6, 1.8, n),
            "weight": weight / weight.sum(),
        }
    )


def _domains(rng: np.random.Generator, n: int) -> np.ndarray:
    named = {**CONSUMER, **TYPOS}
    company_share = 1 - sum(named.values())
    companies = [f"{w}{rng.choice(SUFFIX)}" for w in WORDS] + [f"{w}-{x}.com" for w in WORDS[:10] for x in WORDS[10:]]
    choices = list(named) + ["company"]
    pick = rng.choice(len(choices), n, p=[*named.values(), company_share])
    out = np.array(choices, dtype=object)[pick]
    company = out == "company"
    out[company] = np.array(companies, dtype=object)[rng.integers(0, len(companies), company.sum())]
    return out


def _enrollments(rng: np.random.Generator, n: int, users: pd.DataFrame, seqs: pd.DataFrame) -> pd.DataFrame:
    u = rng.choice(len(users), n, p=users["weight"])
    # Each user works a handful of sequences, one or two of them heavily (so that some
    # user x sequence rows pass the 101-ended floor and others do not).
    mine = np.array([rng.choice(len(seqs), 5, replace=False, p=seqs["weight"]) for _ in range(len(users))])
    s = mine[u, rng.choice(5, n, p=[0.4, 0.25, 0.15, 0.12, 0.08])]
    pool = max(50, int(n * 0.85))
    contacts = rng.integers(0, pool, n)  # some contacts are enrolled more than once
    # Dormant contacts: a small pool enrolled again and again that never opens anything.
    dormant = rng.random(n) < 0.015
    contacts[dormant] = pool + rng.integers(0, max(20, n // 200), dormant.sum())
    domains = _domains(np.random.default_rng(int(rng.integers(1 << 31))), pool + max(20, n // 200))[contacts]
    start = END - pd.Timedelta(days=DAYS)
    offset = rng.uniform(0, DAYS * 86_400, n)
    enrolled = start + pd.to_timedelta(np.round(offset), unit="s")
    typo = np.isin(domains, list(TYPOS))
    p_bounce = np.clip(users["bounce"].to_numpy()[u] * seqs["bounce_mult"].to_numpy()[s], 0, 0.5)
    p_reply = np.clip(users["reply"].to_numpy()[u] * seqs["reply_mult"].to_numpy()[s], 0, 0.6)
    # What changed: in the last 100 days one user buys a list (bounces more than double) and another
    # rewrites their emails (replies double).
    recent = offset > (DAYS - 100) * 86_400
    first_regular = max(2, len(users) // 8)
    p_bounce = np.where(recent & (u == first_regular), np.clip(p_bounce * 2 + 0.02, 0, 0.5), p_bounce)
    p_reply = np.where(recent & (u == first_regular + 1), np.clip(p_reply * 2, 0, 0.6), p_reply)
    return _outcomes(
        rng,
        pd.DataFrame(
            {
                "user_idx": u,
                "seq_idx": s,
                "contact": contacts,
                "domain": domains,
                "enrolled_at": enrolled,
                "bounced": typo | (~dormant & (rng.random(n) < p_bounce)),
                "replied": ~dormant & (rng.random(n) < p_reply),
                "dormant": dormant,
            }
        ),
        users,
        seqs,
    )


def _outcomes(rng: np.random.Generator, f: pd.DataFrame, users: pd.DataFrame, seqs: pd.DataFrame) -> pd.DataFrame:
    n = len(f)
    source = np.full(n, "", dtype=object)
    error = np.full(n, "", dtype=object)
    replies = np.zeros(n, dtype=np.int64)
    replied = f["replied"].to_numpy() & ~f["bounced"].to_numpy()
    kind = rng.random(n)
    source[replied] = np.where(kind[replied] < 0.75, "REPLY", np.where(kind[replied] < 0.87, "THREAD_REPLY", "MEETING"))
    replies[replied] = rng.integers(1, 4, replied.sum())
    rest = ~replied & ~f["bounced"].to_numpy()
    edges = np.cumsum([share for *_, share in OTHER_OUTCOMES])
    pick = np.searchsorted(edges, rng.random(n))
    for i, (src, err, _) in enumerate(OTHER_OUTCOMES):
        hit = rest & (pick == i)
        source[hit], error[hit] = src, err
    bounced = f["bounced"].to_numpy()
    source[bounced], error[bounced] = "ERROR", "BOUNCED"
    days = np.where(
        bounced, rng.uniform(0, 2, n), np.where(source != "", rng.uniform(1, 20, n), rng.uniform(14, 35, n))
    )
    ended = f["enrolled_at"] + pd.to_timedelta(np.round(days * 86_400), unit="s")
    running = (ended > END).to_numpy()
    state = np.where(source == "", "FINISHED", "UNENROLLED").astype(object)
    state[running] = np.where(rng.random(running.sum()) < 0.85, "EXECUTING", "PAUSED")
    source[running], error[running], replies[running] = "", "", 0
    delivered = ~bounced & ~running
    u, s = f["user_idx"].to_numpy(), f["seq_idx"].to_numpy()
    contact = f["contact"].to_numpy()
    return pd.DataFrame(
        {
            "sequence_id": seqs["sequence_id"].to_numpy()[s],
            "sequence_name": seqs["sequence_name"].to_numpy()[s],
            "user_id": users["user_id"].to_numpy()[u],
            "user_name": users["user_name"].to_numpy()[u],
            "user_email": users["user_email"].to_numpy()[u],
            "team": users["team"].to_numpy()[u],
            "contact_id": (100_000_000 + contact).astype(str),
            "contact_email": [f"c{c}@{d}" for c, d in zip(contact, f["domain"])],
            "company_id": (20_000_000 + contact // 4).astype(str),
            "enrolled_at": f["enrolled_at"],
            "ended_at": ended.where(~running),
            "state": state,
            "unenrolled_source": source,
            "step_error_type": error,
            "reply_count": replies,
            "open_count": np.where(delivered & ~f["dormant"].to_numpy(), rng.poisson(2.0, n) + replies, 0),
            "click_count": np.where(delivered & ~f["dormant"].to_numpy(), rng.poisson(0.3, n), 0),
            "meeting_count": np.isin(source, ("MEETING", "ACCOUNT_MEETING")).astype(np.int64),
            "user_idx": u,
            "seq_idx": s,
            "contact": contact,
            "domain": f["domain"].to_numpy(),
        }
    )


def _fresh_after_bounce(frame: pd.DataFrame) -> pd.DataFrame:
    """A CRM suppresses most bounced and unsubscribed contacts: later random draws of such a
    contact become a new contact, so that only :func:`_reenrollments` re-enrolls them."""
    events = frame[frame["step_error_type"].isin(["BOUNCED", "UNSUBSCRIBED"])]
    first = events.groupby("contact")["ended_at"].min()
    after = frame["contact"].map(first)
    later = (frame["enrolled_at"] > after).to_numpy()
    frame = frame.copy()
    fresh = frame["contact"].max() + 1 + np.arange(later.sum())
    frame.loc[later, "contact"] = fresh
    frame.loc[later, "contact_id"] = (100_000_000 + fresh).astype(str)
    frame.loc[later, "contact_email"] = [f"c{c}@{d}" for c, d in zip(fresh, frame.loc[later, "domain"])]
    return frame


BOUNCED_SHARE, UNSUBSCRIBED_SHARE = 0.002, 0.001  # re-enrollments, as shares of the first rows


def _reenrollments(
    rng: np.random.Generator, frame: pd.DataFrame, users: pd.DataFrame, seqs: pd.DataFrame, total: int
) -> pd.DataFrame:
    """``total`` contacts enrolled again after a hard bounce or after unsubscribing: what clean-up
    must find. A small sample with too few such contacts re-enrolls some twice, or (none at all)
    re-enrolls other early contacts, so that the sample always has the rows asked for."""
    early = frame["ended_at"] < END - pd.Timedelta(days=60)
    bounced = round(total * BOUNCED_SHARE / (BOUNCED_SHARE + UNSUBSCRIBED_SHARE))
    parts = []
    for error, k, bounce_again in (("BOUNCED", bounced, 0.8), ("UNSUBSCRIBED", total - bounced, 0.0)):
        if not k:
            continue
        pool = frame.index[early & (frame["step_error_type"] == error)]
        pool = pool if len(pool) else frame.index[early] if early.any() else frame.index
        picked = frame.loc[rng.choice(pool, k, replace=len(pool) < k)]
        later = picked["ended_at"] + pd.to_timedelta(rng.integers(10, 50, k), unit="D")
        parts.append(
            pd.DataFrame(
                {
                    "user_idx": picked["user_idx"].to_numpy(),
                    "seq_idx": rng.integers(0, len(seqs), k),
                    "contact": picked["contact"].to_numpy(),
                    "domain": picked["domain"].to_numpy(),
                    "enrolled_at": later.to_numpy(),
                    "bounced": rng.random(k) < bounce_again,
                    "replied": np.zeros(k, dtype=bool),
                    "dormant": np.zeros(k, dtype=bool),
                }
            )
        )
    return _outcomes(rng, pd.concat(parts, ignore_index=True), users, seqs)


def write_sample(path: str | Path, rows: int = 8024, seed: int = 42) -> Path:
    """Write a sample to ``path``: CSV (ISO 8601 UTC timestamps) or Parquet, by extension."""
    path = Path(path)
    name = path.name.lower()
    if not name.endswith((".parquet", ".csv", ".csv.gz")):
        raise InputError(f"{path}: write the sample as .csv, .csv.gz or .parquet.")
    frame = generate_sample(rows, seed)
    if name.endswith(".parquet"):
        write_bytes(path, lambda stream: frame.to_parquet(stream, index=False), what="sample")
        return path
    for column in ("enrolled_at", "ended_at"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
    compression = "gzip" if name.endswith(".gz") else None
    # mtime=0: a gzip sample is the same bytes on every run, like the CSV.
    options = {"method": "gzip", "mtime": 0} if compression else None
    write_bytes(path, lambda stream: frame.to_csv(stream, index=False, compression=options), what="sample")
    return path
