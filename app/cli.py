"""The `casusregister` command: migrate, seed-demo, serve, create-organisation, join-network, create-user,
create-client, the register of processing activities, and the maintenance of the audit log, retention
and deliveries."""

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError, model_validator

from app import demo, worker
from app.audit import chain as audit_chain
from app.audit import export as audit_export
from app.audit import retention as audit_retention
from app.auth.passwords import hasher
from app.config import DEMO_WEBHOOK_SECRET_KEY, Settings
from app.db import Session, make_engine
from app.migrate import upgrade
from app.models import OrganisationKind, Role, Scope
from app.openapi import render_openapi
from app.privacy import register, retention
from app.services import accounts, delivery

cli = typer.Typer(help="Casusregister: case registry for the person-centred approach.", no_args_is_help=True)
audit_cli = typer.Typer(help="The audit log: seal, verify, export, purge.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
retention_cli = typer.Typer(help="Erasure after the retention periods.", no_args_is_help=True)
cli.add_typer(retention_cli, name="retention")
webhooks_cli = typer.Typer(help="Webhook and other outbox deliveries.", no_args_is_help=True)
cli.add_typer(webhooks_cli, name="webhooks")
keys_cli = typer.Typer(help="The token-signing keys (JWT_KEYS_DIR): rotation.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
register_cli = typer.Typer(help="The register of processing activities (AVG art. 30).", no_args_is_help=True)
cli.add_typer(register_cli, name="processing-activities")
LOOP_HELP = "Run again every N seconds until SIGTERM or Ctrl-C (0: once)"


CONFIGURATION_HINT = ("The casusregister command reads the service's configuration (its environment, or .env in the "
                      "current directory): run it with the service's, or with DEMO_MODE=true for the demo.")


def _settings(kind: type[Settings] = Settings) -> Settings:
    try:
        return kind()
    except ValidationError as exc:
        problems = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        typer.echo(f"configuration error: {problems}\n{CONFIGURATION_HINT}", err=True)
        raise typer.Exit(2) from exc
    except ValueError as exc:
        typer.echo(f"configuration error: {exc}\n{CONFIGURATION_HINT}", err=True)
        raise typer.Exit(2) from exc


class EndpointSettings(Settings):
    """What register-endpoint needs of the configuration: the database, and the service's own
    WEBHOOK_SECRET_KEY, with which it encrypts the client secret that the service decrypts to deliver
    referrals. It signs no token and matches no person: PERSON_MATCH_KEY and the signing keys are the
    service's concern, not this command's."""

    @model_validator(mode="after")
    def _refuse_demo_secrets_in_production(self) -> "EndpointSettings":
        if not self.demo_mode and self.webhook_secret_key == DEMO_WEBHOOK_SECRET_KEY:
            raise ValueError("WEBHOOK_SECRET_KEY must be set to the service's own key: register-endpoint encrypts "
                             "the client secret with it, and the service decrypts it with the same key")
        return self


def _hasher(settings: Settings):
    return hasher(settings.argon2_time_cost, settings.argon2_memory_cost)


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    settings = _settings()
    upgrade(settings, make_engine(settings, owner=True))
    typer.echo("database schema is up to date")


@cli.command("seed-demo")
def seed_demo(week: Annotated[bool, typer.Option("--week/--no-week", help=(
        "Also record a week of work through the API: signals, cases in every status, last week's meeting "
        "closed, next week's agenda built, referrals, Arnhem's registry linked (--no-week: only the network "
        "and its accounts)"))] = True) -> None:
    """Load the demo network and accounts, and a week of work. Needs DEMO_MODE=true; refuses a database
    with real data; run again, it changes nothing."""
    from app import demo_week

    settings = _settings()
    if not settings.demo_mode:
        typer.echo("refusing: demo data is only loaded with DEMO_MODE=true", err=True)
        raise typer.Exit(2)
    with Session(make_engine(settings)) as session:
        try:
            created = demo.seed(session, _hasher(settings), settings.demo_password)
        except demo.RealDataPresent as exc:
            typer.echo(f"refusing: {exc}", err=True)
            raise typer.Exit(2) from exc
        session.commit()
    typer.echo("demo data loaded" if created else "demo data already present")
    if not week:
        return
    try:
        recorded = demo_week.seed_week(settings)
    except demo_week.WeekFailed as exc:
        typer.echo(f"the demo week stopped halfway: {exc}\nThe database holds part of it: remove it "
                   f"({settings.database_url}) and run seed-demo again.", err=True)
        raise typer.Exit(1) from exc
    typer.echo("demo week recorded" if recorded else "demo week already present (or other work: not added)")


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          migrate_first: Annotated[bool, typer.Option("--migrate", help=(
              "Bring the schema up to date first (under a lock, so replicas may all ask); by default a "
              "replica serves the schema as it finds it and `casusregister migrate` runs once per release"))] = False,
          ) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = _settings()
    if migrate_first:
        upgrade(settings, make_engine(settings, owner=True))
    if settings.demo_mode and settings.jwt_private_key_file is None:
        # Created before the workers start, so that they all sign with the same key.
        from app.auth.tokens import KeyRing
        KeyRing.from_settings(settings)
    # uvicorn's access log would write paths with their ids and query strings; the app's own request
    # log (casusregister.access) replaces it.
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, proxy_headers=True, log_level="info",
                access_log=False)


@cli.command("create-organisation")
def create_organisation(name: str, kind: OrganisationKind, code: str,
                        municipality: Annotated[str | None, typer.Option(help="Name or code of its municipality")] = None) -> None:
    """Add an organisation to the network."""
    _with_session(lambda s, _: accounts.create_organisation(
        s, name, kind, code, accounts.find_organisation(s, municipality) if municipality else None),
        f"organisation {name} created")


@cli.command("join-network")
def join_network(organisation: Annotated[str, typer.Argument(help="Name or code of the organisation")],
                 municipality: Annotated[str, typer.Argument(help="Name or code of the municipality whose network it joins")]) -> None:
    """Let an organisation work in a further municipality's network (a regional partner serving several):
    it may then take part in that municipality's cases, attend its meetings and receive its referrals."""
    _with_session(lambda s, _: accounts.join_network(
        s, accounts.find_organisation(s, organisation), accounts.find_organisation(s, municipality)),
        f"{organisation} works in the network of {municipality}")


@cli.command("create-user")
def create_user(username: str, organisation: str,
                role: Annotated[list[Role], typer.Option(help="Repeat for more roles")],
                display_name: Annotated[str | None, typer.Option()] = None,
                password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "") -> None:
    """Add a user to an organisation."""
    _with_session(lambda s, h: accounts.create_user(
        s, h, username, display_name or username, accounts.find_organisation(s, organisation), role, password),
        f"user {username} created")


@cli.command("create-client")
def create_client(client_id: str, organisation: str,
                  scope: Annotated[list[Scope], typer.Option(help="Repeat for more scopes")]) -> None:
    """Add an API client (client-credentials grant); prints its secret once."""
    def create(session, h):
        _, secret = accounts.create_client(session, h, client_id, accounts.find_organisation(session, organisation), scope)
        return secret
    secret = _with_session(create, f"client {client_id} created")
    typer.echo(f"client_secret (shown once): {secret}")


@cli.command("register-endpoint")
def register_endpoint(organisation: Annotated[str, typer.Argument(help="Name or code of the external municipality")],
                      municipality: Annotated[str, typer.Option(help="Name or code of the municipality here that deals with it")],
                      base_url: Annotated[str, typer.Option(help="Base URL of its registry")],
                      token_url: Annotated[str, typer.Option(help="Its token endpoint (client credentials)")],
                      client_id: Annotated[str, typer.Option(help="The client it registered for us")],
                      client_secret: Annotated[str, typer.Option(prompt=True, hide_input=True)] = "") -> None:
    """Link another municipality's registry: where referrals to it go, and whose referrals come in for which municipality.
    Needs DATABASE_URL and the service's WEBHOOK_SECRET_KEY (the client secret is stored encrypted with it)."""
    from app.services import endpoints

    settings = _settings(EndpointSettings)
    _with_session(lambda s, _: endpoints.register(
        s, settings, accounts.find_organisation(s, organisation), accounts.find_organisation(s, municipality),
        base_url, token_url, client_id, client_secret), f"endpoint of {organisation} registered", settings)


@cli.command()
def openapi(output: Annotated[str, typer.Option(help="File to write")] = "openapi/openapi.json") -> None:
    """Write the OpenAPI document generated from the app (committed under openapi/)."""
    import tempfile

    from app.factory import create_app

    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(demo_mode=True, database_url=f"sqlite:///{scratch}/x.db", data_dir=scratch)
        document = create_app(settings).openapi()
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(render_openapi(document))
    typer.echo(f"wrote {output}")


@audit_cli.command("seal")
def audit_seal(loop: Annotated[int, typer.Option(help=LOOP_HELP)] = 0) -> None:
    """Seal the audit events written since the last seal (older than AUDIT_SEAL_MARGIN_SECONDS)."""
    settings = _settings()
    engine = make_engine(settings)

    def seal_once() -> None:
        with engine.begin() as connection:
            count = audit_chain.seal(connection, settings.audit_seal_margin_seconds, settings.audit_seal_batch_size)
        typer.echo(f"{count} seal(s) written")
    _once_or_loop("seal", loop, seal_once, settings)


@audit_cli.command("verify")
def audit_verify(seal_first: Annotated[bool, typer.Option("--seal", help="Seal what is due first")] = False) -> None:
    """Check every sealed batch and the chain of seals; exit 1 at the first broken link."""
    settings = _settings()
    engine = make_engine(settings)
    if seal_first:
        with engine.begin() as connection:
            audit_chain.seal(connection, settings.audit_seal_margin_seconds, settings.audit_seal_batch_size)
    started = time.perf_counter()
    with engine.connect() as connection:
        result = audit_chain.verify(connection)
    elapsed = time.perf_counter() - started
    typer.echo(f"checked {result.events} events in {result.seals} seals in {elapsed:.2f}s; "
               f"{result.unsealed} newer events not sealed yet")
    if result.anchor:
        typer.echo(f"started from retention anchor {result.anchor}")
    if result.broken:
        typer.echo(f"BROKEN: {result.broken}", err=True)
        raise typer.Exit(1)
    typer.echo("the audit log is intact")


@audit_cli.command("export")
def audit_export_command(since: datetime, until: datetime,
                         operator: Annotated[str, typer.Option(help="Who exports, for the audit log")],
                         municipality: Annotated[str | None, typer.Option(
                             help="Name or code of a municipality: only its events, for its own SIEM")] = None,
                         output: Annotated[typer.FileTextWrite, typer.Option()] = "-",
                         form: Annotated[str, typer.Option("--format", help=(
                             "native: the events as stored; logboek: the Logboek Dataverwerkingen records, "
                             "one per step and data subject"))] = "native") -> None:
    """Write the events of [SINCE, UNTIL) as JSON Lines (UTC unless an offset is given); audited."""
    if form not in audit_export.FORMATS:
        typer.echo(f"--format is one of {', '.join(audit_export.FORMATS)}", err=True)
        raise typer.Exit(2)
    since, until = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (since, until))
    settings = _settings()
    engine = make_engine(settings)
    tenant = None
    if municipality is not None:
        with Session(engine) as session:
            tenant = accounts.find_organisation(session, municipality).id
    count = audit_export.export(engine, since, until, lambda line: output.write(line + "\n"), operator, tenant, form)
    typer.echo(f"exported {count} {'records' if form == 'logboek' else 'events'}", err=True)


@retention_cli.command("run")
def retention_run(operator: Annotated[str, typer.Option(help="Who runs it, for the audit log")],
                      dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, erase nothing")] = False,
                      loop: Annotated[int, typer.Option(help="Run every N seconds (0: once)")] = 0) -> None:
    """Erase what is past its retention period (RETENTION_* settings); each run is audited with counts."""
    settings = _settings()
    engine = make_engine(settings)

    def run_once() -> None:
        with Session(engine) as session:
            result = retention.dry_run(session, settings) if dry_run else retention.run(session, settings, operator)
        verb = "would erase" if dry_run else "erased"
        typer.echo(f"{verb}: {result.signals} signals, {result.cases} cases, "
                   f"{result.information_items} information items, {result.persons} persons, "
                   f"{result.outbox_messages} outbox messages")
    _once_or_loop("retention", loop, run_once, settings)


@audit_cli.command("purge")
def audit_purge(operator: Annotated[str, typer.Option(help="Who runs it, for the audit log")],
                dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, remove nothing")] = False,
                loop: Annotated[int, typer.Option(help=LOOP_HELP)] = 0) -> None:
    """Remove whole sealed batches of audit events older than RETENTION_AUDIT_DAYS; audited, anchored.
    Connects as the owner of the tables (OWNER_DATABASE_URL): the application's role may not delete them."""
    settings = _settings()
    engine = make_engine(settings, owner=True)

    def purge_once() -> None:
        with Session(engine) as session:
            if dry_run:
                result = audit_retention.dry_run(session, settings)
            else:
                result = audit_retention.purge(session, settings, operator)
        verb = "would remove" if dry_run else "removed"
        typer.echo(f"{verb}: {result.seals} seals, {result.events} events, {result.persons} event persons"
                   + (f"; anchor {result.anchor}" if result.anchor else ""))
    _once_or_loop("audit purge", loop, purge_once, settings)


def _once_or_loop(name: str, seconds: int, action, settings: Settings) -> None:
    """Once; or every `seconds` until SIGTERM, riding out failures like the worker does."""
    if not seconds:
        action()
        return
    worker.run_until_stopped(worker.Runner([worker.Job(name, seconds, action)],
                                           backoff_max=settings.worker_backoff_max_seconds))
    typer.echo("stopped")


@webhooks_cli.command("deliver")
def webhooks_deliver(once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit")] = False,
                     interval: Annotated[float, typer.Option(help="Seconds to wait when nothing is due")] = 5.0,
                     batch: Annotated[int, typer.Option(help="Messages claimed at a time")] = 50) -> None:
    """Deliver the outbox (webhooks, documents for other registries), retrying with backoff."""
    settings = _settings()
    engine = make_engine(settings)
    if once:
        run = delivery.deliver_due(engine, settings, batch=batch)
        typer.echo(", ".join(f"{count} {outcome}" for outcome, count in run.counts.items()))
        return
    job = worker.Job("deliver", interval, lambda: worker.deliver(engine, settings, batch))
    worker.run_until_stopped(worker.Runner([job], backoff_max=settings.worker_backoff_max_seconds))
    typer.echo("stopped")


@cli.command()
def status() -> None:
    """How far behind sealing and delivery are; exit 1 when a worker seems stalled (for monitoring)."""
    from app.monitoring import backlog

    settings = _settings()
    with make_engine(settings).connect() as connection:
        found = backlog(connection, settings)
    for name, value in found.as_dict().items():
        typer.echo(f"{name}: {'-' if value is None else value}")
    if found.sealing_stalled or found.delivery_stalled:
        raise typer.Exit(1)


@cli.command("worker")
def worker_command() -> None:
    """Seal the audit log, deliver the outbox, run retention and purge the login throttle, each on its
    schedule (WORKER_*_INTERVAL_SECONDS), until SIGTERM. Run as many as you like: no job runs twice."""
    settings = _settings()
    engine = make_engine(settings)
    worker.run_until_stopped(worker.runner(engine, settings))
    typer.echo("stopped")


@register_cli.command("load")
def register_load(file: Annotated[Path, typer.Argument(help="A register file, in the form of app/privacy/processing_activities.json")]) -> None:
    """Add or change processing activities: each whose description differs from its latest version
    becomes a new version; activities the file does not name stay as they are."""
    try:
        activities = register.read(file)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    with make_engine(_settings()).begin() as connection:
        added = register.sync(connection, activities)
    typer.echo(f"registered: {', '.join(added)}" if added else "the register already holds these versions")


@register_cli.command("list")
def register_list() -> None:
    """The current version of every processing activity."""
    with make_engine(_settings()).connect() as connection:
        for activity in register.latest(connection):
            typer.echo(f"{activity.key} v{activity.version}\t{activity.name}")


def _keys_dir(settings: Settings) -> Path:
    from app.auth.tokens import signing_keys_dir

    directory = signing_keys_dir(settings)
    if directory is None:
        typer.echo("set JWT_KEYS_DIR: rotation needs a directory of keys that every replica reads", err=True)
        raise typer.Exit(2)
    return directory


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Add a signing key (it signs from now on) and remove the keys whose successor has existed longer
    than a token lives (TOKEN_TTL_SECONDS + JWT_LEEWAY_SECONDS). Run it on a schedule, e.g. monthly."""
    from app.auth import keys

    settings = _settings()
    lifetime = timedelta(seconds=settings.token_ttl_seconds + settings.jwt_leeway_seconds)
    added, removed = keys.rotate(_keys_dir(settings), settings.jwt_algorithm, lifetime)
    typer.echo(f"added {added.path.name}; retired {len(removed)}: {', '.join(k.path.name for k in removed) or '-'}")


@keys_cli.command("list")
def keys_list() -> None:
    """The signing keys, oldest first, with their key ids; the last one signs."""
    from app.auth import keys
    from app.auth.tokens import key_id

    settings = _settings()
    stored = keys.stored(_keys_dir(settings))
    for key in stored:
        role = "signs" if key is stored[-1] else "verifies"
        typer.echo(f"{key.path.name}\t{key_id(key.pem(), settings.jwt_algorithm)}\t{role}")


def _with_session(action, message: str, settings: Settings | None = None):
    settings = settings or _settings()
    with Session(make_engine(settings)) as session:
        try:
            result = action(session, _hasher(settings))
        except accounts.AccountError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        session.commit()
    typer.echo(message)
    return result


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cli()
