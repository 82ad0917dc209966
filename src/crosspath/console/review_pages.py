"""The review pages: the queue of private JDs, one JD as headhunters will read it, decisions."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.engine import Connection

from crosspath.accounts import service as accounts
from crosspath.api.deps import EngineDep
from crosspath.console import queue
from crosspath.console.web import FormDep, SignedInDep, render, see_other, text_field
from crosspath.fields import sanitize_html
from crosspath.store.transaction import read_many, write


def _queue_page(conn: Connection, partner_id: str | None) -> dict[str, Any]:
    return {"items": queue.queue(conn, partner_id), "partners": accounts.list_partners(conn)}


@get("/")
async def queue_page(
    request: Request[Any, Any, Any], engine: EngineDep, signed_in: SignedInDep
) -> Response[str]:
    partner = request.query_params.get("partner", "")
    found = await read_many(engine, _queue_page, partner or None)
    return render(request, "queue.html", signed_in, partner=partner, **found)


@get("/missions/{mission_id:str}")
async def jd_page(
    request: Request[Any, Any, Any],
    engine: EngineDep,
    signed_in: SignedInDep,
    mission_id: FromPath[str],
) -> Response[str]:
    view = await read_many(engine, queue.jd, mission_id)
    done = request.query_params.get("done", "")
    return render(
        request,
        "mission.html",
        signed_in,
        view=view,
        # Cleaned when the partner sent it; cleaned again here, so that what this page trusts
        # never depends on how a row reached the database.
        description=sanitize_html(view.mission.description),
        decisions=[
            name for name, (applies, _) in queue.DECISIONS.items() if view.mission.status in applies
        ],
        done=queue.DONE.get(done),
    )


@post("/missions/{mission_id:str}/decision")
async def decide(
    engine: EngineDep, signed_in: SignedInDep, form: FormDep, mission_id: FromPath[str]
) -> Redirect:
    decision = text_field(form, "decision")
    reason = text_field(form, "reason")
    await write(engine, queue.decide, signed_in.actor, mission_id, decision, reason)
    return see_other(f"/console/missions/{mission_id}?done={decision}")


ROUTES = [queue_page, jd_page, decide]
