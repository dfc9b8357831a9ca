"""The import run: read the file in batches, each batch decided and written in one transaction.

Per batch of `batch_size` rows: parse and validate every row (a rejected row never stops the
others), find which people are already known (one query per table), then in one transaction
create the new leads already scored and routed, fill existing leads under --on-duplicate update,
write their activities and events, qualify the leads whose score reached the threshold, and move
the ImportJob's counts, error report and `last_line` forward. A killed run therefore leaves whole
batches behind and the job says where they end: running the same file again resumes after
`last_line` (and would skip those rows as duplicates anyway).

Between batches the run looks at the job's `cancel_requested` (set by the admin's "Cancel"): the
batches already committed stay, and the job ends "cancelled" with their counts. A queued job (the
admin's upload, leads/importers/queued.py) is passed in as `job` and run, or resumed, in place.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import queue as queues
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from contacts.models import Contact
from crm.choices import ActivityKind
from crm.models import Activity, Event, Tenant, User
from crm.outbox import relay_soon
from crm.public_ids import new_public_ids
from crm.timeline import activity_fields, event_fields
from leads.assignment import assigned_entry, assigned_event, not_assigned_entry
from leads.capture.service import created_event
from leads.campaigns import campaign_seen
from leads.intake import empty_fields_filled
from leads.privacy.consent import CONSENT_FIELDS, imported_consent_over
from leads.prediction.service import refresh_predictions
from leads.routing.service import BatchRouter, Routed, Unwritten, latest_turns
from leads.rules.scoring import auto_qualify, qualifying_statuses, rescore_leads

from ..choices import CampaignPlatform, DuplicatePolicy, ImportStatus, LeadSource, LeadStatus
from ..exporting import safe_cell
from ..models import Channel, ImportJob, Lead
from .dedupe import known_people, people_not_to_import
from . import dates, profiles
from .headers import DATE_FIELDS, ColumnPlan, MappingError, parse_mapping, parse_value_mapping, plan_columns
from .insights import IMPORTED_COUNTS, BatchInsights
from .reader import BadRecord, CsvFile, UnreadableFile, open_csv
from .rows import Defaults, LeadValues, RowError, RowParser
from .write_behind import WriteBehind
from .writer import Json, Table, allocate_ids, insert

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 20_000
# PostgreSQL checks each batch's foreign keys at its commit (the deferred constraints) with one
# `WHERE id = $1` per row, planned from the lead table's statistics. Statistics older than most of
# the table (a fresh workspace, autovacuum off or not yet round) can make that plan a full scan of
# another index holding `id` (tenant, created, id): milliseconds per row, a 20,000-row commit taking
# 30 s at 100,000 leads and growing. So the run ANALYZEs the tables it grows whenever it has added
# more rows than their statistics know of (doubling: a handful of times per million rows).
ANALYZE_AFTER_ROWS = 5_000
# Files from this size on (some two batches of a typical export) are read and parsed one batch ahead
# in a second thread, while this one decides and writes the batch before: parsing is a third of the
# run's CPU, and it fits in the time the writer waits for PostgreSQL. None: never.
# (docs/benchmarks.md, "Import speed (issue 18)": a forked process instead made the run slower.)
PARSE_AHEAD_BYTES: int | None = 8_000_000
# From this size on, on PostgreSQL, a third thread writes and commits each batch (its own connection)
# while the run decides, scores and routes the next (leads/importers/write_behind.py). None: never.
WRITE_BEHIND_BYTES: int | None = 8_000_000
PARSE_AHEAD_QUEUE = 1  # parsed batches waiting at most (memory: a batch is some 40 MB of values)
GATE_ROWS = 200  # the parse-ahead thread looks at its gate this often (rows)
RETRIES = 3  # a concurrent capture may take an email between our lookup and our COPY
ERROR_COLUMNS = ["line", "column", "value", "message"]
EXAMPLES_PER_REASON = 5
NO_PROFILE = "none"


class ImportFileError(Exception):
    """Nothing in the file can be imported as it stands; the message says what to do."""


@dataclass
class ImportOptions:
    dry_run: bool = False
    source: str = LeadSource.IMPORT
    owner: User | None = None
    channel: Channel | None = None
    campaign: str = ""
    mapping: list[str] = field(default_factory=list)  # "Column Name=field"
    value_mapping: list[str] = field(default_factory=list)  # "status:Their word=our value"
    profile: str = ""  # a CRM profile's name, "none", or "": detect it from the header
    date_order: str = ""  # "mdy" / "dmy" for every date column, or "": settled per column
    on_duplicate: str = DuplicatePolicy.SKIP
    batch_size: int = DEFAULT_BATCH_SIZE
    sample_rows: int = 0  # a dry run of the first N rows only, its job not saved (the admin's rejection check)

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("batch_size")
        data.pop("dry_run")
        data.pop("sample_rows")
        data["owner"] = self.owner.get_username() if self.owner else None
        data["channel"] = self.channel.name if self.channel else None
        return data


@dataclass
class _Batch:
    """One batch of the file on its way: what was read and found wrong, then what was decided (_prepare)."""

    read: int  # rows
    last_line: int
    rejected: int
    warned: int
    report: str  # the error report's lines for this batch
    position: int  # bytes of the file read up to its end
    findings: dict  # the run's grouped problems up to this batch
    counts: dict = field(default_factory=lambda: {"created": 0, "updated": 0, "skipped": 0})
    new: list[LeadValues] = field(default_factory=list)
    fills: dict = field(default_factory=dict)
    routed: list[Routed] = field(default_factory=list)
    will_qualify: list[LeadValues] = field(default_factory=list)
    now: datetime.datetime | None = None


@dataclass
class _InFlight:
    """What the run must assume of the batch being written behind while it prepares the next one: its new
    people exist, and its owners have their leads (once its job row shows its last line, they do)."""

    keys: set
    routing: Unwritten

    @classmethod
    def of(cls, batch: _Batch, *, job: ImportJob) -> _InFlight:
        written = Exists(ImportJob.objects.filter(pk=job.pk, last_line__gte=batch.last_line))
        return cls(keys={row.key for row in batch.new}, routing=Unwritten.of(batch.routed, written=written))


Progress = Callable[[ImportJob, int, int], None]  # (job with counts so far, bytes read, file size)


def inspect_file(
    *,
    path: str | Path,
    mapping: list[str] | None = None,
    value_mapping: list[str] | None = None,
    profile: str = "",
    date_order: str = "",
    require_reach: bool = True,
) -> tuple[CsvFile, ColumnPlan]:
    """The file's encoding, delimiter and header, the CRM whose export it is, which column feeds which
    field, which words mean which values, and in which order each date column is read. Raises ImportFileError."""
    if profile and profile != NO_PROFILE and profile not in profiles.PROFILES:
        raise ImportFileError(f"No profile {profile!r}: use one of {', '.join(profiles.PROFILES)}, or {NO_PROFILE}.")
    if date_order and date_order not in dates.ORDERS:
        raise ImportFileError(f"The date order is {' or '.join(dates.ORDERS)} (got {date_order!r}).")
    try:
        csv_file = open_csv(path)
        chosen = (profiles.PROFILES.get(profile) if profile else profiles.detect(csv_file.header))
        plan = plan_columns(csv_file.header, parse_mapping(mapping), profile=chosen,
                            values=parse_value_mapping(value_mapping))
    except (UnreadableFile, MappingError) as exc:
        raise ImportFileError(str(exc)) from exc
    if chosen is not None:
        plan.notes.append(f"Recognised as {'an' if chosen.label[0] in 'AEIOU' else 'a'} {chosen.label} file: "
                          "its columns and its words for status, source and rating are mapped.")
    _settle_dates(csv_file, plan, date_order)
    if require_reach and not plan.reaches_people:
        raise ImportFileError(
            f"No column of {Path(path).name} holds an email or a phone number (columns: "
            f"{', '.join(csv_file.header)}). Map one, e.g. --map \"Work Mail=email\"."
        )
    return csv_file, plan


def _settle_dates(csv_file: CsvFile, plan: ColumnPlan, forced: str) -> None:
    """Each date column's order (month/day or day/month), from a sample of its values; noted in the plan."""
    columns = [(i, header) for i, (header, target) in enumerate(zip(plan.header, plan.targets, strict=True))
               if target in DATE_FIELDS]
    if not columns:
        return
    if forced:
        for _i, header in columns:
            plan.date_orders[header] = forced
            plan.notes.append(f"{header}: dates read as {dates.ORDERS[forced]}, as asked.")
        return
    samples: dict[str, list[str]] = {header: [] for _i, header in columns}
    for count, (_line, cells) in enumerate(csv_file.records()):
        if count >= dates.SAMPLE_ROWS:
            break
        if isinstance(cells, list):
            for i, header in columns:
                if i < len(cells) and cells[i].strip():
                    samples[header].append(cells[i].strip())
    default = plan.profile.date_order if plan.profile else "mdy"
    for _i, header in columns:
        order, settled, mixed = dates.settle(samples[header], default)
        plan.date_orders[header] = order
        numeric = any(dates.possible_orders(value) for value in samples[header])
        if not numeric:
            continue  # ISO or written-out dates: nothing to settle
        if settled:
            plan.notes.append(f"{header}: dates read as {dates.ORDERS[order]} (values such as "
                              f"{next(v for v in samples[header] if dates.possible_orders(v) == {order})} "
                              "can only be read that way).")
        elif mixed:
            plan.notes.append(f"{header}: the dates mix month/day and day/month; read as {dates.ORDERS[order]}, "
                              "and the dates that cannot be are kept in custom fields with a warning.")
        else:
            plan.notes.append(f"{header}: every date could be month/day or day/month; read as "
                              f"{dates.ORDERS[order]}. Choose the other order if that is wrong.")


def import_leads(
    *,
    tenant: Tenant,
    path: str | Path,
    options: ImportOptions,
    actor: User | None = None,
    file_name: str | None = None,
    progress: Progress | None = None,
    job: ImportJob | None = None,
) -> ImportJob:
    """Import the CSV at `path` into `tenant`; returns the finished ImportJob with counts and error report.

    Raises ImportFileError when nothing in the file can be read (the job is then not created, or,
    when a queued `job` is given, marked failed). A given job resumes after its `last_line`.
    """
    try:
        csv_file, plan = inspect_file(path=path, mapping=options.mapping, value_mapping=options.value_mapping,
                                      profile=options.profile, date_order=options.date_order)
    except ImportFileError as exc:
        if job is not None:
            job.status, job.message, job.finished_at = ImportStatus.FAILED, str(exc), timezone.now()
            job.save(update_fields=["status", "message", "finished_at"])
        raise
    run = _Run(tenant=tenant, csv_file=csv_file, plan=plan, options=options, actor=actor,
               file_name=file_name or Path(path).name, progress=progress, job=job)
    return run.go()


class ImportBusy(ImportFileError):
    """Another run holds this tenant's import of this file (PostgreSQL advisory lock)."""


class _Run:
    def __init__(self, *, tenant, csv_file, plan, options, actor, file_name, progress, job=None):
        if options.on_duplicate not in DuplicatePolicy.values:
            raise ImportFileError(f"--on-duplicate takes {' or '.join(DuplicatePolicy.values)}.")
        self.tenant, self.csv_file, self.plan, self.options = tenant, csv_file, plan, options
        self.actor, self.file_name, self.progress = actor, file_name, progress
        self.dry = options.dry_run
        self.given_job: ImportJob | None = job
        self.position = [0]
        users = {}
        members = list(User.objects.filter(tenant=tenant, is_active=True).order_by("pk").values_list(
            "pk", "email", "username", "first_name", "last_name"
        ))
        for pk, _email, username, _first, _last in members:
            users[username.lower()] = pk
        for pk, email, _username, first, last in members:  # then emails, then full names ("Rita Alvarez")
            if email:
                users.setdefault(email.lower(), pk)
        for pk, _email, _username, first, last in members:
            full = " ".join(f"{first} {last}".lower().split())
            if full:
                users.setdefault(full, pk)
        channels = {name.lower(): pk for pk, name in Channel.objects.filter(tenant=tenant).values_list("pk", "name")}
        self.parser = RowParser(
            plan=plan,
            defaults=Defaults(
                source=options.source,
                owner_id=options.owner.pk if options.owner else None,
                channel_id=options.channel.pk if options.channel else None,
                campaign=options.campaign,
            ),
            users=users,
            channels=channels,
        )
        self.seen_in_dry_run: set = set()
        self.findings: dict = {"rejected": [], "warnings": []}
        self.report = io.StringIO()  # dry run: the whole report; otherwise the current batch's
        self.leads_table = Table(Lead, with_id=True)
        self.activities = Table(Activity)
        self.events = Table(Event)
        self.statistics: dict[type, list[float]] = {}  # model -> [rows its statistics know, rows added since]
        self.ahead: _ParseAhead | None = None
        self.behind: WriteBehind | None = None
        self.in_flight: _InFlight | None = None  # the batch the write-behind thread is writing, if any

    # --- the run ---------------------------------------------------------------------------

    def go(self) -> ImportJob:
        job = self._job()
        self.job = job
        if job.findings:
            self.findings = {"rejected": list(job.findings.get("rejected", [])),
                             "warnings": list(job.findings.get("warnings", []))}
        self.insights = BatchInsights(tenant=self.tenant)
        self.router = BatchRouter(tenant=self.tenant, activity_counts=IMPORTED_COUNTS)
        position = self.position
        started = time.monotonic()
        try:
            with self._exclusive():
                if self._ahead_worth_it():
                    behind = self.behind = WriteBehind(self._store) if self._behind_worth_it() else None
                    ahead = self.ahead = _ParseAhead(self, gated=behind is None)
                    try:
                        for read, last_line, parsed, errors, at in ahead:
                            position[0] = at
                            batch = self._take(read, last_line, parsed, errors)
                            if batch is not None:  # prepared while the one before was written behind
                                if self._written_behind():
                                    return self._cancelled()
                                self._hand_over(batch)
                            elif read >= self.options.batch_size and self._between_batches(at):
                                return self._cancelled()
                        if behind is not None and self._written_behind():
                            return self._cancelled()
                    finally:
                        if behind is not None:
                            behind.close()
                        ahead.close()
                else:
                    for batch in self._batches(job.last_line):
                        self._batch(batch)
                        if len(batch) >= self.options.batch_size and self._between_batches(position[0]):
                            return self._cancelled()
        except ImportBusy:
            if self.given_job is not None:
                raise  # the run holding the lock is this job's own: it stays as that run leaves it
            job.status, job.message, job.finished_at = ImportStatus.FAILED, "Another run held the file.", timezone.now()
            job.save(update_fields=["status", "message", "finished_at"])
            raise
        except Exception as exc:
            log.exception("Import %s of %s failed", job.pk, self.file_name)
            job.status, job.message, job.finished_at = ImportStatus.FAILED, f"{type(exc).__name__}: {exc}", timezone.now()
            if not self.dry:
                job.save(update_fields=["status", "message", "finished_at"])
            raise
        job.status, job.finished_at = ImportStatus.FINISHED, timezone.now()
        if self.dry:
            job.error_report = self.report.getvalue()
            job.findings = self.findings
            if not self.options.sample_rows:
                job.save()
        else:
            job.bytes_read = self.csv_file.size
            job.save(update_fields=["status", "finished_at", "bytes_read"])
            job.refresh_from_db()
        if self.progress:
            self.progress(job, self.csv_file.size, self.csv_file.size)
        log.debug("Import %s of %s: %s rows in %.1f s", job.pk, self.file_name, job.rows_read,
                 time.monotonic() - started)
        return job

    def _cancel_requested(self) -> bool:
        if self.dry:
            return False
        return ImportJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists()

    def _cancelled(self) -> ImportJob:
        """Stop at this batch boundary: what is committed stays, the job says it was cancelled."""
        job = self.job
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CANCELLED, finished_at=timezone.now())
        job.refresh_from_db()
        log.info("Import %s of %s cancelled after line %s", job.pk, self.file_name, job.last_line)
        return job

    def _job(self) -> ImportJob:
        options = self.options.as_json()
        if self.given_job is not None:
            job = self.given_job
            job.status, job.message = ImportStatus.RUNNING, ""
            job.checksum, job.encoding, job.delimiter = (
                self.csv_file.checksum, self.csv_file.encoding_label, self.csv_file.delimiter)
            job.bytes_total = self.csv_file.size
            if not job.error_report:
                job.error_report = _csv_line(ERROR_COLUMNS)
            if job.rows_read == 0:
                job.started_at = timezone.now()  # from queued to running: rows/s counts from here
            job.save(update_fields=["status", "message", "checksum", "encoding", "delimiter", "bytes_total",
                                    "error_report", "started_at"])
            return job
        if not self.dry:
            earlier = (
                ImportJob.objects.filter(
                    tenant=self.tenant, checksum=self.csv_file.checksum, dry_run=False,
                    status__in=[ImportStatus.RUNNING, ImportStatus.FAILED],
                )
                .order_by("-started_at", "-id")
                .first()
            )
            if earlier is not None and earlier.options == options:
                earlier.status, earlier.message = ImportStatus.RUNNING, ""
                earlier.save(update_fields=["status", "message"])
                return earlier
        job = ImportJob(
            tenant=self.tenant, created_by=self.actor, file_name=self.file_name[:255],
            checksum=self.csv_file.checksum, options=options, dry_run=self.dry,
            encoding=self.csv_file.encoding_label, delimiter=self.csv_file.delimiter,
        )
        if not self.dry:
            job.error_report = _csv_line(ERROR_COLUMNS)
            job.save()
        else:
            self.report.write(_csv_line(ERROR_COLUMNS))
        return job

    def _exclusive(self):
        """On PostgreSQL, one run per tenant and file at a time (a second one would race the first)."""
        run = self

        class Lock:
            def __enter__(self):
                if connection.vendor != "postgresql" or run.dry:
                    return
                key = int(run.csv_file.checksum[:15], 16) ^ run.tenant.pk
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
                    if not cursor.fetchone()[0]:
                        raise ImportBusy(
                            f"{run.file_name} is being imported into {run.tenant} right now (job {run.job.pk}); "
                            "wait for that run to finish."
                        )
                self.key = key

            def __exit__(self, *exc):
                if getattr(self, "key", None) is not None:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])

        return Lock()

    # --- one batch -------------------------------------------------------------------------

    def _batches(self, last_line: int, *, position: list[int] | None = None):
        """The file's records after `last_line`, in lists of batch_size (a dry run's sample: its first rows);
        `position` (default: the run's) kept at the byte offset read."""
        batch: list = []
        sample = self.options.sample_rows if self.dry else 0
        read = self.job.rows_read
        for line, cells in self.csv_file.records(binary_position=self.position if position is None else position):
            if line <= last_line:
                continue  # committed by the run this one resumes
            if sample and read + len(batch) >= sample:
                break
            batch.append((line, cells))
            if len(batch) >= self.options.batch_size:
                read += len(batch)
                yield batch
                batch = []
        if batch:
            yield batch

    def _parse(self, batch: list, *, gate: threading.Event | None = None,
               stop: threading.Event | None = None) -> tuple[list[LeadValues], list[RowError]]:
        """The batch's rows parsed; in the parse-ahead thread, waiting whenever `gate` is closed."""
        parsed: list[LeadValues] = []
        errors: list[RowError] = []
        for count, (line, cells) in enumerate(batch):
            if gate is not None and count % GATE_ROWS == 0:
                while not gate.wait(0.5) and not (stop is not None and stop.is_set()):
                    pass
            if isinstance(cells, BadRecord):
                errors.append(RowError(line, "", "", cells.message))
                continue
            result = self.parser.parse(line, cells)
            if isinstance(result, list):
                errors.extend(result)
            else:
                parsed.append(result)
        return parsed, errors

    def _ahead_worth_it(self) -> bool:
        return PARSE_AHEAD_BYTES is not None and not self.dry and self.csv_file.size >= PARSE_AHEAD_BYTES

    def _behind_worth_it(self) -> bool:
        # Skip only: under --on-duplicate update a batch fills the leads the batch before created,
        # which the run must read back once they are written.
        return (WRITE_BEHIND_BYTES is not None and connection.vendor == "postgresql" and not self.dry
                and self.options.on_duplicate == DuplicatePolicy.SKIP and self.csv_file.size >= WRITE_BEHIND_BYTES)

    def _written_behind(self) -> bool:
        """Wait for the batch being written behind, if any, and count it; then as _between_batches."""
        assert self.behind is not None
        done = self.behind.wait()
        if done is None:
            return False
        self.in_flight = None
        self._count(done)
        return done.read >= self.options.batch_size and self._between_batches(done.position)

    def _hand_over(self, batch: _Batch) -> None:
        assert self.behind is not None
        self.behind.submit(batch)
        self.in_flight = _InFlight.of(batch, job=self.job)

    def _between_batches(self, position: int) -> bool:
        """After a full batch (not the last, short one): progress shown; whether to stop (cancelled)."""
        if self.progress:
            self.progress(self.job, position, self.csv_file.size)
        return self._cancel_requested()

    def _batch(self, batch: list) -> None:
        parsed, errors = self._parse(batch)
        self._take(len(batch), batch[-1][0], parsed, errors)

    def _take(self, read: int, last_line: int, parsed: list[LeadValues], errors: list[RowError]) -> _Batch | None:
        """One parsed batch: its problems grouped, its rows decided, then written in one transaction, here or,
        with a write-behind thread, returned for it to write while the run prepares the next one."""
        warned = [row for row in parsed if row.warnings]
        self._group("rejected", errors)
        self._group("warnings", [warning for row in warned for warning in row.warnings])
        batch = _Batch(
            read=read, last_line=last_line, rejected=len({error.line for error in errors}), warned=len(warned),
            report="".join(_csv_line([e.line, e.column, e.value, e.message]) for e in errors),
            position=self.position[0],
            # A copy: the run groups the next batch's problems while this one's are being written.
            findings={kind: [{**group, "examples": list(group["examples"])} for group in groups]
                      for kind, groups in self.findings.items()},
        )
        if self.dry:
            batch.counts = self._decide(parsed)[0]
            self._count(batch)
            self.report.write(batch.report)
            return None
        self._prepare(batch, parsed)
        if self.behind is not None:
            return batch
        self._store(batch)
        self._count(batch)
        return None

    def _store(self, batch: _Batch) -> None:
        """Write a prepared batch and the job's progress in one transaction. A concurrent capture may have
        taken one of its people since the duplicate check: then again, under a lock, without them."""
        for attempt in range(1, RETRIES + 1):
            try:
                with transaction.atomic():
                    if attempt > 1:
                        self._lock_leads()
                        self._recheck(batch)
                    self._write(batch)
                    self._record(batch)
                return
            except IntegrityError:
                if attempt == RETRIES:
                    raise
                log.warning("Import %s: batch ending on line %s raced another write; retrying", self.job.pk,
                            batch.last_line)

    def _group(self, kind: str, problems: list[RowError]) -> None:
        """Count each (column, reason) and keep its first examples: what the pages and the summary show."""
        if not problems:
            return
        groups = {(g["column"], g["message"]): g for g in self.findings[kind]}
        for problem in problems:
            group = groups.get((problem.column, problem.message))
            if group is None:
                group = {"column": problem.column, "message": problem.message, "count": 0, "examples": []}
                groups[(problem.column, problem.message)] = group
                self.findings[kind].append(group)
            group["count"] += 1
            if len(group["examples"]) < EXAMPLES_PER_REASON:
                group["examples"].append([problem.line, problem.value])
        self.findings[kind].sort(key=lambda g: -g["count"])

    def _lock_leads(self) -> None:
        """After a lost race: hold other writers of leads until this batch commits (seconds), so the
        duplicate check and the insert see the same table. Readers are not blocked."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'LOCK TABLE "{Lead._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')

    def _count(self, batch: _Batch) -> None:
        job = self.job
        job.rows_read += batch.read
        job.rejected += batch.rejected
        job.created += batch.counts["created"]
        job.updated += batch.counts["updated"]
        job.skipped += batch.counts["skipped"]
        job.warned += batch.warned
        job.findings = batch.findings
        job.last_line = batch.last_line
        job.bytes_read = batch.position

    def _record(self, batch: _Batch) -> None:
        counts = batch.counts
        changes = {
            "rows_read": F("rows_read") + batch.read,
            "rejected": F("rejected") + batch.rejected,
            "created": F("created") + counts["created"],
            "updated": F("updated") + counts["updated"],
            "skipped": F("skipped") + counts["skipped"],
            "warned": F("warned") + batch.warned,
            "findings": batch.findings,
            "last_line": batch.last_line,  # the write-behind's "written yet?" (_Unwritten) reads it
            "bytes_read": batch.position,
        }
        if batch.report:
            changes["error_report"] = Concat(F("error_report"), Value(batch.report))
        ImportJob.objects.filter(pk=self.job.pk).update(**changes)

    def _decide(self, parsed: list[LeadValues]) -> tuple[dict, list[LeadValues], dict[int, tuple[dict, list[str]]]]:
        """(counts, rows to create, lead id -> (values to fill, field names) for --on-duplicate update).
        The people of a batch still being written (write-behind) count as known: the lookup cannot see them yet."""
        update = self.options.on_duplicate == DuplicatePolicy.UPDATE
        counts = {"created": 0, "updated": 0, "skipped": 0}
        barred = people_not_to_import(tenant_id=self.tenant.pk, rows=parsed)
        if barred:
            counts["skipped"] += sum(1 for row in parsed if row.key in barred)
            parsed = [row for row in parsed if row.key not in barred]
        known, open_leads = known_people(tenant_id=self.tenant.pk, rows=parsed, with_leads=update)
        if self.in_flight is not None:
            known |= self.in_flight.keys
        new: list[LeadValues] = []
        first_rows: dict = {}  # key -> (values later duplicates fill, names filled on an existing lead or None)
        fills: dict[int, tuple[dict, list[str]]] = {}
        for row in parsed:
            key = row.key
            if self.dry:
                if key in self.seen_in_dry_run and key not in first_rows:
                    known.add(key)  # an earlier batch of this dry run "created" it
                self.seen_in_dry_run.add(key)
            earlier = first_rows.get(key)
            if earlier is not None:  # an earlier row of this batch
                target, names = earlier
                filled = _fill(target, row) if update and target is not None else []
                if names is not None:
                    names.extend(filled)
                counts["updated" if filled else "skipped"] += 1
                continue
            if key in known:
                lead = open_leads.get(key)
                if lead is None:  # a closed lead or a contact: history stays as it is
                    first_rows[key] = (None, None)
                    counts["skipped"] += 1
                    continue
                target, names = fills.setdefault(lead["id"], (dict(lead), []))
                filled = _fill(target, row)
                names.extend(filled)
                first_rows[key] = (target, names)
                counts["updated" if filled else "skipped"] += 1
                continue
            first_rows[key] = (row, None)
            new.append(row)
            counts["created"] += 1
        return counts, new, fills

    def _prepare(self, batch: _Batch, parsed: list[LeadValues]) -> None:
        """Everything about a batch that reads but writes nothing: who is new, their scores and owners."""
        batch.counts, new, batch.fills = self._decide(parsed)
        now = batch.now = timezone.now()
        qualify_from, threshold = qualifying_statuses(self.tenant), self.tenant.auto_qualify_threshold
        for row in new:
            self._complete(row, now)
            self.insights.apply(row, now)
        will_qualify = [row for row in new if row["status"] in qualify_from and row["score_total"] >= threshold]
        for row in will_qualify:  # routing sees the status capture's would have had by then
            row["status"] = LeadStatus.QUALIFIED
        batch.routed = self.router.route(new, now=now,
                                         unwritten=self.in_flight.routing if self.in_flight else None)
        for row in will_qualify:
            row["status"] = row.pop("_status")
        batch.new, batch.will_qualify = new, will_qualify

    def _recheck(self, batch: _Batch) -> None:
        """After a lost race, under the lock: the batch's new people someone else has written meanwhile are
        no longer created but skipped, or, under --on-duplicate update, fill that open lead. Their owners
        and scores as decided stay (routing them again would count them twice)."""
        update = self.options.on_duplicate == DuplicatePolicy.UPDATE
        known, open_leads = known_people(tenant_id=self.tenant.pk, rows=batch.new, with_leads=update)
        if not known:
            return
        kept = []
        for row in batch.new:
            if row.key not in known:
                kept.append(row)
                continue
            batch.counts["created"] -= 1
            lead = open_leads.get(row.key)
            filled: list[str] = []
            if lead is not None:
                target, names = batch.fills.setdefault(lead["id"], (dict(lead), []))
                filled = _fill(target, row)
                names.extend(filled)
            batch.counts["updated" if filled else "skipped"] += 1
        still = {id(row) for row in kept}  # the rows themselves: ids are given again in _write
        batch.new = kept
        batch.routed = [one for one in batch.routed if id(one.values) in still]
        batch.will_qualify = [row for row in batch.will_qualify if id(row) in still]

    def _write(self, batch: _Batch) -> None:
        """A prepared batch's rows written (in the caller's transaction)."""
        new, routed, now = batch.new, batch.routed, batch.now
        # Ids before the COPY, the batch's activities and events name their lead by them; under the
        # transaction, where SQLite's write lock keeps them ours.
        for row, pk, public_id in zip(new, allocate_ids(Lead, len(new)), new_public_ids(len(new)), strict=True):
            row["id"] = pk
            row["public_id"] = public_id
        self._contacts_for_converted(new, now)
        self._link_campaigns(new, now)
        if self.ahead is not None:
            self.ahead.may_parse()  # from here on this thread mostly waits for PostgreSQL
        insert(self.leads_table, (self.leads_table.row(row) for row in new))
        insert(self.activities, (self.activities.row(a) for a in self._activities(new, routed, now)))
        insert(self.events, (self.events.row(e) for e in self._events(new, routed, now)))
        self._keep_statistics(Lead, len(new))
        self._keep_statistics(Contact, sum(1 for row in new if row.get("converted_contact_id")))
        relay_soon()
        self._mark_rotation(routed)
        for row in batch.will_qualify:
            auto_qualify(lead=Lead(pk=row["id"], tenant=self.tenant, status=row["status"],
                                   score_total=row["score_total"]))
        self._apply_fills(batch.fills, now)

    def _keep_statistics(self, model, added: int) -> None:
        """ANALYZE `model`'s table, in this batch's transaction (it counts the batch's own rows, and the
        commit's foreign-key checks are planned afresh), once the run has added more rows than the
        table's statistics know of. See ANALYZE_AFTER_ROWS."""
        if connection.vendor != "postgresql" or not added:
            return
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if model not in self.statistics:
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                self.statistics[model] = [max(cursor.fetchone()[0], 0.0), 0]
            known = self.statistics[model]
            known[1] += added
            if known[1] < max(known[0], ANALYZE_AFTER_ROWS):
                return
            cursor.execute(f'ANALYZE "{table}"')
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            known[:] = [max(cursor.fetchone()[0], 0.0), 0]

    def _link_campaigns(self, new: list[LeadValues], now) -> None:
        """A row naming a campaign links its lead to that campaign (leads/campaigns.py), made when first named."""
        known: dict[str, int | None] = {}  # per batch: a batch rolled back takes the campaigns it made along
        for row in new:
            name = (row.get("campaign") or "").strip()
            if not name:
                continue
            if name not in known:
                campaign = campaign_seen(tenant_id=self.tenant.pk, platform=CampaignPlatform.OTHER, name=name, now=now)
                known[name] = campaign.pk if campaign is not None else None
            row["source_campaign_id"] = known[name]

    def _complete(self, row: LeadValues, now) -> None:
        """The columns a captured lead gets from its moment of capture."""
        row["tenant_id"] = self.tenant.pk
        created = row.setdefault("created_at", now)
        row["updated_at"] = now
        row["last_activity_at"] = now
        if row.get("owner_id") is not None:
            row["assigned_at"] = created
        status = row["status"]
        row["_status"] = status
        if status == LeadStatus.QUALIFIED:
            row["qualified_at"] = created
        if status == LeadStatus.CONVERTED:
            row["converted_at"] = row.get("converted_at") or created
        else:
            row.pop("converted_at", None)

    def _contacts_for_converted(self, new: list[LeadValues], now) -> None:
        """A converted lead links to the contact it became: history brings its contact along."""
        converted = [row for row in new if row["status"] == LeadStatus.CONVERTED]
        if not converted:
            return
        contacts = Contact.objects.bulk_create(
            [
                Contact(
                    tenant_id=self.tenant.pk, first_name=row.get("first_name", ""), last_name=row.get("last_name", ""),
                    email=row["email"], phone=row["phone"], job_title=row.get("job_title", ""),
                    owner_id=row.get("owner_id"), created_at=row["converted_at"],
                    # The consent goes with the person, as a conversion takes it along (leads.conversion).
                    **{name: row[name] for name in CONSENT_FIELDS if row.get(name) is not None},
                )
                for row in converted
            ]
        )
        for row, contact in zip(converted, contacts, strict=True):
            row["converted_contact_id"] = contact.pk

    def _activities(self, new: list[LeadValues], routed, now):
        tenant_id, job_id = self.tenant.pk, self.job.pk
        # Built once for the batch; each row differs only in its lead, contact and line.
        imported = activity_fields(tenant=tenant_id, kind=ActivityKind.IMPORTED, subject=f"Imported from {self.file_name}",
                                   actor=self.actor, occurred_at=now)
        for row in new:
            yield {**imported, "lead_id": row["id"], "contact_id": row.get("converted_contact_id"),
                   "data": Json(f'{{"import_job_id": {job_id}, "line": {row.line}}}')}
        for one in routed:
            decision, row = one.decision, one.values
            if one.owner is not None:
                yield activity_fields(**assigned_entry(
                    tenant_id=tenant_id, lead=row["id"], owner=one.owner, previous_id=None, actor=None,
                    reason=decision.reason, details=decision.details(), now=row["assigned_at"],
                ))
            elif decision.say_unassigned:
                yield activity_fields(**not_assigned_entry(
                    tenant_id=tenant_id, lead=row["id"], owner_id=None, actor=None, reason=decision.reason, now=now,
                ))

    def _events(self, new: list[LeadValues], routed, now):
        tenant_id, job_id = self.tenant.pk, self.job.pk
        for row in new:
            yield event_fields(**created_event(
                tenant=tenant_id, lead_id=str(row["public_id"]), source=row["source"],
                channel_id=row.get("channel_id"), now=now,
                import_job_id=job_id, email=row["email"], status=row["status"],
            ))
        for one in routed:
            if one.owner is not None:
                decision = one.decision
                yield event_fields(**assigned_event(
                    tenant_id=tenant_id, lead=one.values["id"], owner=one.owner, previous_id=None,
                    reason=decision.reason, details=decision.details(), now=now,
                    email=one.values["email"], source=one.values["source"], lead_public_id=str(one.values["public_id"]),
                ))

    def _mark_rotation(self, routed) -> None:
        for pk, stamp in latest_turns(routed).items():
            User.objects.filter(pk=pk).update(last_assigned_at=stamp)

    def _apply_fills(self, fills: dict[int, tuple[dict, list[str]]], now) -> None:
        filled = {pk: (values, sorted(set(names))) for pk, (values, names) in fills.items() if names}
        if not filled:
            return
        fields = sorted({name for _, names in filled.values() for name in names})
        leads = []
        for pk, (values, _names) in filled.items():
            lead = Lead(pk=pk, tenant_id=self.tenant.pk)
            for name in fields:
                setattr(lead, name, values.get(name))
            lead.last_activity_at = now
            lead.updated_at = now
            leads.append(lead)
        Lead.objects.bulk_update(leads, [*fields, "last_activity_at", "updated_at"], batch_size=500)
        actor_id = self.actor.pk if self.actor else None
        subject = f"Updated from import {self.file_name}"
        insert(self.activities, (self.activities.row(activity_fields(
            tenant=self.tenant.pk, lead=pk, kind=ActivityKind.IMPORTED, subject=subject, actor=actor_id,
            occurred_at=now, data={"import_job_id": self.job.pk, "filled": names},
        )) for pk, (_, names) in filled.items()))
        # Filled details change the score (the set-based rescoring path, its own savepoint per batch)
        # and then the prediction, as refresh_insights does after a capture fills a lead.
        rescore_leads(tenant=self.tenant, lead_ids=list(filled))
        refresh_predictions(tenant=self.tenant, lead_ids=list(filled), actor=self.actor)


class _ParseAhead:
    """The file read and parsed one batch ahead by a second thread, its batches taken here in order.

    The thread never touches the database: it uses the run's parser (the plan, the workspace's users
    and channels, all loaded before) and sends each batch's parsed rows and errors through a bounded
    queue (PARSE_AHEAD_QUEUE), ending with "end", or "error" and what went wrong. It runs while this
    thread waits for PostgreSQL (the COPYs, the commit's foreign-key checks, ANALYZE), which release
    the GIL; a thread shares the parsed rows without pickling them, which made the earlier forked
    process cost more CPU than it saved on 2 cores.
    """

    def __init__(self, run: _Run, *, gated: bool = True):
        self.gated = gated  # with a write-behind thread the run's own thread writes nothing: no gate then
        self.queue: queues.Queue = queues.Queue(maxsize=PARSE_AHEAD_QUEUE)
        self.stop = threading.Event()
        # Open while this thread waits (for the next batch, or for PostgreSQL in the COPYs and the commit);
        # closed while it decides, scores and routes a batch, which the two threads would otherwise share
        # the GIL for, making that part slower without making the run faster.
        self.gate = threading.Event()
        self.gate.set()
        self.thread = threading.Thread(target=_parse_ahead,
                                       args=(run, run.job.last_line, self.queue, self.stop, self.gate),
                                       daemon=True, name="import-parse-ahead")
        self.thread.start()

    def may_parse(self) -> None:
        self.gate.set()

    def __iter__(self):
        while True:
            self.gate.set()
            try:
                message = self.queue.get(timeout=5)
            except queues.Empty:
                if not self.thread.is_alive():
                    raise RuntimeError("The import's parsing thread ended unexpectedly.")
                continue
            if message[0] == "end":
                return
            if message[0] == "error":
                raise RuntimeError(f"Parsing the file failed: {message[1]}")
            if self.gated:
                self.gate.clear()
            yield message[1:]

    def close(self) -> None:
        self.stop.set()
        self.gate.set()
        self.thread.join(timeout=10)


def _parse_ahead(run: _Run, last_line: int, queue: queues.Queue, stop: threading.Event, gate: threading.Event) -> None:
    def put(message) -> bool:
        while not stop.is_set():  # a run that stopped early (cancelled, failed) takes no more
            try:
                queue.put(message, timeout=0.5)
                return True
            except queues.Full:
                continue
        return False

    position = [0]  # its own: the run's position is where the batches taken so far end
    try:
        for batch in run._batches(last_line, position=position):
            parsed, errors = run._parse(batch, gate=gate, stop=stop)
            if not put(("batch", len(batch), batch[-1][0], parsed, errors, position[0])):
                return
        put(("end",))
    except BaseException as exc:  # the run raises it; this thread just ends
        put(("error", f"{type(exc).__name__}: {exc}"))


def _fill(target: dict, row: dict) -> list[str]:
    """Fill target's empty fields from row as a capture fills a lead (leads.intake); returns what was filled."""
    changes = empty_fields_filled(current=target.get, incoming=row, edited=target.get("edited_fields") or ())
    changes.update(imported_consent_over(current=target.get("marketing_consent") or "", incoming=row))
    target.update(changes)
    return list(changes)


def _csv_line(cells: list) -> str:
    """One line of the error report, its cells escaped: rejected rows come back as they came."""
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(cell) for cell in cells])
    return out.getvalue()

