"""Forms beyond Reply: `/ticket new` (a ticket opened by hand, from a template), the root's Category
select and its "More" menu (tags, move to team), and the queue's "Handle next" button."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.slack import answers, inbound, modal_steps, ticket_blocks
from bot.adapters.slack.limits import mrkdwn_line
from bot.adapters.slack.parts import SlackParts
from bot.adapters.slack.ticket_blocks import plain, section
from bot.domain.access import Action
from bot.domain.errors import UserFacingError
from bot.handlers import classify, creation, macros, queries
from bot.handlers.context import Actor
from bot.handlers.permissions import permit

NEW_MODAL = "ticket.new_modal"
NEXT = "ticket.next"
FIELDS = ("template", "requester", "subject", "body", "send")


def new_ticket_modal(parts: SlackParts, template_name: str = "") -> dict[str, Any]:
    wf = parts.ctx.config.workflow
    chosen = wf.template(template_name) if template_name else None
    blocks: list[dict[str, Any]] = []
    if wf.templates:
        options = [{"text": plain(t.name, 75), "value": t.name[:150]} for t in wf.templates[:100]]
        select: dict[str, Any] = {"type": "static_select", "action_id": "template", "options": options,
                                  "placeholder": plain("No template", 150)}
        if chosen:
            select["initial_option"] = next(o for o in options if o["value"] == chosen.name[:150])
        blocks.append({"type": "input", "block_id": "template", "optional": True, "element": select,
                       "label": plain("Template", 2000)})
    if chosen and chosen.questions:
        asked = "\n".join(f"• {mrkdwn_line(q, 300)}" for q in chosen.questions[:20])
        blocks.append(section(f"*Ask:*\n{asked}"))
    blocks += [
        _input("requester", "Customer or supplier email", "name@example.com"),
        _input("subject", "Subject", "Leave empty to use the template's", optional=True,
               initial=chosen.subject if chosen else ""),
        _input("body", "What it is about", "Notes from the call, or the mail to send", multiline=True),
        {"type": "input", "block_id": "send", "optional": True, "label": plain("Mail", 2000),
         "element": {"type": "checkboxes", "action_id": "send", "options": [
             {"text": plain("Mail this text to them now (replies come back to the ticket)", 75), "value": "send"}]}},
    ]
    return {"type": "modal", "callback_id": NEW_MODAL, "title": plain("New ticket", 24),
            "submit": plain("Open ticket", 24), "close": plain("Cancel", 24), "blocks": blocks,
            "private_metadata": json.dumps({})}


def _input(block_id: str, label: str, placeholder: str, *, optional: bool = False, multiline: bool = False,
           initial: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": block_id, "multiline": multiline,
                               "placeholder": plain(placeholder, 150)}
    if initial:
        element["initial_value"] = initial[:3000]
    return {"type": "input", "block_id": block_id, "optional": optional, "element": element,
            "label": plain(label, 2000)}


async def open_new_ticket_form(parts: SlackParts, actor: Actor, trigger_id: str, template_name: str = "") -> None:
    """Only for someone who may open tickets: a form is a Slack write, and its template list is the team's."""
    await permit(parts.ctx, actor, Action.NEW)
    await parts.api.api.views_open(trigger_id=trigger_id, view=new_ticket_modal(parts, template_name))


async def open_new_ticket_at_once(parts: SlackParts, command: dict[str, Any], template_name: str) -> None:
    """`/ticket new`: the form opens before users.info or the database are asked (the trigger lives 3 s),
    then is filled in, or says why not (refused, no such template)."""
    body = {"trigger_id": command.get("trigger_id"), "user": {"id": command["user_id"]},
            "channel": {"id": command.get("channel_id")}}
    view_id = await modal_steps.open_at_once(parts, body, "New ticket")
    if view_id is None:
        return
    try:
        actor = await parts.people.actor(command["user_id"], command.get("user_name", ""))
        await permit(parts.ctx, actor, Action.NEW)
        modal = new_ticket_modal(parts, template_name)
    except UserFacingError as exc:
        modal = modal_steps.notice("New ticket", f":warning: {exc}")
    await modal_steps.show(parts, view_id, modal, "new ticket")


def _values(view: dict[str, Any]) -> dict[str, Any]:
    state = (view.get("state") or {}).get("values") or {}
    out: dict[str, Any] = {}
    for name in FIELDS:
        entry = (state.get(name) or {}).get(name) or {}
        if entry.get("type") == "static_select":
            out[name] = (entry.get("selected_option") or {}).get("value")
        elif entry.get("type") == "checkboxes":
            out[name] = bool(entry.get("selected_options"))
        else:
            out[name] = entry.get("value") or ""
    return out


def form_problems(values: dict[str, Any]) -> dict[str, str]:
    """What the New ticket form lacks, by field, as the ack's `errors` (nothing here asks anyone)."""
    problems = {}
    requester = str(values.get("requester") or "").strip()
    if "@" not in requester:
        problems["requester"] = "An email address, e.g. name@example.com"
    if not str(values.get("body") or "").strip():
        problems["body"] = "Say what it is about"
    return problems


def register(app: Any, parts: SlackParts) -> None:
    @app.view(NEW_MODAL)
    async def on_new(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Acknowledged at once: a missing field in the ack, the rest ("Opening…") after it."""
        v = _values(view)
        if problems := form_problems(v):
            await ack(response_action="errors", errors=problems)
            return
        await ack(response_action="update", view=modal_steps.sending("New ticket"))
        await parts.backlog.later(lambda: open_ticket(body, view, v), "new ticket", body)

    async def open_ticket(body: dict[str, Any], view: dict[str, Any], v: dict[str, Any]) -> None:
        user = body["user"]["id"]
        try:
            actor = await parts.people.actor(user, body["user"].get("name", ""))
            result = await creation.open_ticket(parts.ctx, actor, requester=v["requester"], subject=v["subject"],
                                                body=v["body"], template=v.get("template"), send=bool(v["send"]))
        except UserFacingError as exc:
            await modal_steps.show(parts, view.get("id"), modal_steps.again(view, str(exc)), "new ticket")
            return
        link = await parts.thread_link(result.ticket.number)
        shown = f":white_check_mark: {result.summary}" + (f" <{link}|open the thread>" if link else "")
        await modal_steps.show(parts, view.get("id"), modal_steps.notice("New ticket", shown), "new ticket")

    @app.action(NEXT)
    async def on_next(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await parts.backlog.later(lambda: take_next(body), "handle next", body)

    async def take_next(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        try:
            result = await classify.next_ticket(parts.ctx, await parts.people.actor(user))
        except UserFacingError as exc:
            await parts.tell(user, channel, answers.text(f":warning: {exc}"))
            return
        await parts.tell(user, channel, answers.done(result.summary, await parts.thread_link(result.ticket.number)))


def register_root_menus(app: Any, parts: SlackParts) -> None:
    """The root message's Category select and "More" overflow, and the small forms it opens."""
    ctx = parts.ctx

    async def change(body: dict[str, Any], number: int, fn: Any) -> None:
        user = body["user"]["id"]
        try:
            await fn(await parts.people.actor(user, body["user"].get("name", "")), number)
        except UserFacingError as exc:
            await parts.tell(user, (body.get("channel") or {}).get("id"), answers.text(f":warning: {exc}"))

    @app.action(ticket_blocks.CATEGORY)
    async def on_category(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        number, value = ticket_blocks.ticket_number(action), (action.get("selected_option") or {}).get("value", "")
        if number is not None:
            await parts.backlog.later(
                lambda: change(body, number, lambda actor, n: classify.set_category(ctx, actor, n, value)), "category",
                body)

    @app.action(ticket_blocks.MACRO)
    async def on_macro(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A macro picked on the root: applied, and its outcome told to the picker alone (a reply it sent, too)."""
        await ack()
        number, value = ticket_blocks.ticket_number(action), (action.get("selected_option") or {}).get("value", "")

        async def apply(actor: Actor, n: int) -> None:
            result = await macros.apply_macro(ctx, actor, n, value)
            await parts.tell(actor.chat_user_id, (body.get("channel") or {}).get("id"),
                             answers.done(f":white_check_mark: {result.summary}", None))

        if number is not None and value:
            await parts.backlog.later(lambda: change(body, number, apply), "macro", body)

    @app.action(ticket_blocks.MORE)
    async def on_more(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        number, choice = ticket_blocks.ticket_number(action), (action.get("selected_option") or {}).get("value")
        if number is not None:
            parts.backlog.soon(lambda: open_menu_form(body, number, choice), "root menu")

    async def open_menu_form(body: dict[str, Any], number: int, choice: str | None) -> None:
        """The form opens first ("Loading…": the trigger lives 3 s), then is filled, or says why not."""
        title = "Tags" if choice == "tags" else "Move to team"
        view_id = await modal_steps.open_at_once(parts, body, f"{title} #{number}")
        if view_id is None:
            return
        try:
            actor = await parts.people.actor(body["user"]["id"], body["user"].get("name", ""))
            await permit(ctx, actor, Action.CLASSIFY if choice == "tags" else Action.MOVE, number)
            ticket = (await queries.show(ctx, actor, number)).ticket
        except UserFacingError as exc:  # refused (or gone): the form says so and offers nothing
            await modal_steps.show(parts, view_id, modal_steps.notice(title, f":warning: {exc}"), title)
            return
        teams = [t.name for t in ctx.config.workflow.teams]
        modal = ticket_blocks.tags_modal(ticket) if choice == "tags" else ticket_blocks.move_modal(ticket, teams)
        await modal_steps.show(parts, view_id, modal, title)

    @app.view(ticket_blocks.TAGS_MODAL)
    async def on_tags(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        number = inbound.metadata_number(view)
        typed = (((view.get("state") or {}).get("values") or {}).get("tags") or {}).get("tags") or {}
        wanted = {t.strip().lower().lstrip("#") for t in (typed.get("value") or "").replace(",", " ").split() if t.strip()}
        await ack()

        async def retag(actor: Actor, n: int) -> object:
            current = set((await queries.show(ctx, actor, n)).ticket.tags)
            if wanted == current:
                return None
            return await classify.tag(ctx, actor, n, sorted(wanted - current), sorted(current - wanted))

        await parts.backlog.later(lambda: change(body, number, retag), "tags", body)

    @app.view(ticket_blocks.MOVE_MODAL)
    async def on_move(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        number = inbound.metadata_number(view)
        chosen = ((((view.get("state") or {}).get("values") or {}).get("team") or {}).get("team") or {})
        team = (chosen.get("selected_option") or {}).get("value")
        await ack()
        if team:
            await parts.backlog.later(
                lambda: change(body, number, lambda actor, n: classify.move_to_team(ctx, actor, n, team)), "move", body)
