"""`crosspath worker`: the webhook delivery worker, alone or beside `crosspath serve`."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import signal
import threading

import click

from crosspath.api.logs import configure_logging
from crosspath.cli.context import Context, pass_context
from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from crosspath.webhooks.worker import CONCURRENCY, Worker


@click.command("worker")
@click.option(
    "--concurrency",
    default=CONCURRENCY,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Endpoints sent to at once.",
)
@pass_context
def worker(ctx: Context, concurrency: int) -> None:
    """Deliver webhooks until stopped (SIGTERM or Ctrl-C let the tries under way finish).

    `crosspath serve` runs one already; on PostgreSQL any number may run beside it.
    """
    ctx.require_schema()
    click.echo("Delivering webhooks (stop with Ctrl-C).", err=True)
    run(ctx.settings, concurrency=concurrency)


def run(settings: Settings, *, concurrency: int = CONCURRENCY, parent: int | None = None) -> None:
    """Deliver until SIGTERM or SIGINT, or until the process `parent` is gone."""
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url, max(settings.db_pool_size, concurrency + 1))
    delivering = Worker(engine, settings, concurrency=concurrency)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: delivering.stop())
    if parent is not None:
        threading.Thread(target=_stop_when_orphaned, args=(delivering, parent), daemon=True).start()
    try:
        delivering.run()
    finally:
        engine.dispose()


def _stop_when_orphaned(delivering: Worker, parent: int) -> None:
    # A server killed outright (SIGKILL) cannot stop its worker: the worker notices instead.
    while not delivering.stopping.wait(1.0):
        if os.getppid() != parent:
            delivering.stop()


def start_beside(settings: Settings) -> multiprocessing.process.BaseProcess:
    """A worker in a process of its own, for `crosspath serve`."""
    process = multiprocessing.get_context("spawn").Process(
        target=run,
        args=(settings,),
        kwargs={"parent": os.getpid()},
        name="crosspath-webhook-worker",
    )
    process.start()
    return process


def stop_beside(process: multiprocessing.process.BaseProcess, settings: Settings) -> None:
    """Stop it as SIGTERM does: the tries under way may take up to the webhook timeout."""
    if process.is_alive():
        process.terminate()
        process.join(settings.webhook_timeout + 5)
    if process.is_alive():
        process.kill()
        process.join()
