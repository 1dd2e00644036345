"""The knowledge base: Markdown articles, found by words, suggested on new tickets, inserted into replies.

The articles are files (bot.handlers.kb_library keeps them indexed); nothing of them is stored but the
suggestion note a new ticket gets, which is thread content like any message: ThreadSync shows it on
Slack, Discord and the console alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.domain.access import Action
from bot.domain.kb_article import Article, plain_text
from bot.domain.kb_index import Hit, KbIndex, guess_language
from bot.domain.model import Message, MessageKind, Ticket
from bot.handlers import events
from bot.handlers.context import Actor, Context
from bot.handlers.errors import NotFound, Refused
from bot.handlers.kb_library import library_for
from bot.handlers.permissions import permit
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import message_view, ticket_view

log = logging.getLogger(__name__)

SUGGESTION_HEADER = "Knowledge base articles that may help"
_QUERY_CHARS = 4000  # of a first message: what it is about is said early; a pasted log adds only noise


@dataclass(frozen=True)
class ArticleHit:
    slug: str
    title: str
    url: str | None
    language: str | None
    snippet: str


async def _index(ctx: Context) -> KbIndex:
    library = library_for(ctx.config)
    if library is None:
        raise Refused("no knowledge base is configured (TIKETTI_KB_DIR)")
    return await library.index()


async def search_articles(ctx: Context, actor: Actor, words: str, *, limit: int = 5) -> list[ArticleHit]:
    """The articles that best match `words` (title first, then tags, then text), each with a telling line."""
    await permit(ctx, actor, Action.KB)
    if not words.strip():
        raise Refused("say what to look for: /ticket kb printer setup")
    index = await _index(ctx)
    if not len(index):
        raise Refused(f"the knowledge base has no articles yet: add Markdown files to {ctx.config.kb_dir} "
                      "(TIKETTI_KB_DIR; docs/configuration.md, \"Knowledge base\")")
    return [_view(hit, words) for hit in index.search(words, limit=limit)]


def _view(hit: Hit, query: str) -> ArticleHit:
    a = hit.article
    return ArticleHit(a.slug, a.title, a.url, a.language, hit.snippet(query))


async def insert_article(ctx: Context, actor: Actor, slug: str, *, as_text: bool = False) -> str:
    """What a reply gets for `:kb:slug` (the title and link) or `:kb-text:slug` (the article's text).

    No permission of its own: inserting is part of the reply, which checks REPLY before anything is sent."""
    article = await article_by_slug(ctx, slug)
    if as_text:
        return plain_text(article.body)
    if article.url is None:
        raise Refused(f"the article {slug!r} has no public link (no url in its front matter); "
                      f"insert its text with :kb-text:{slug}")
    return f"{article.title}: {article.url}"


async def article_by_slug(ctx: Context, slug: str) -> Article:
    article = (await _index(ctx)).get(slug)
    if article is None:
        raise NotFound(f"there is no knowledge-base article {slug!r}; find one with /ticket kb words…")
    return article


async def suggest(ctx: Context, uow: UnitOfWork, ticket: Ticket, text: str, now: datetime) -> None:
    """Note the articles that fit a ticket just opened, in the transaction that opens it.

    Called only where a ticket is created, so the note exists exactly when the ticket does: a retried or
    duplicate intake opens no ticket and writes no note. A SYSTEM message, by Tiketti: never mailed, shown to
    agents only, no first response and no change of status or SLA. Nothing when nothing fits well."""
    library = library_for(ctx.config)
    if library is None or ctx.config.kb_suggestions <= 0:
        return
    query = f"{ticket.subject}\n{text[:_QUERY_CHARS]}"
    try:
        index = await library.index()
        hits = index.suggest(query, limit=ctx.config.kb_suggestions, language=guess_language(query))
    except Exception:  # a knowledge base that cannot be read costs the suggestion, never the customer's mail
        log.exception("knowledge base %s: no suggestion for #%d", library.folder, ticket.number)
        return
    if not hits:
        return
    body = suggestion_text([h.article for h in hits])
    note = await uow.messages.add(Message(ticket_id=ticket.number, kind=MessageKind.SYSTEM, created_at=now,
                                          body_text=body, body_display=body, author_label="Tiketti"))
    uow.events.append(events.MessageAdded(ticket=await ticket_view(uow, ticket),
                                          message=message_view(ticket.number, note)))


def suggestion_text(articles: list[Article]) -> str:
    lines = [f"{SUGGESTION_HEADER} (insert into a reply with :kb:slug for the link, :kb-text:slug for the text):"]
    for a in articles:
        where = f": {a.url}" if a.url else ""
        how = f":kb:{a.slug} / :kb-text:{a.slug}" if a.url else f":kb-text:{a.slug}"
        lines.append(f"• {a.title}{where} ({how})")
    return "\n".join(lines)


async def warm_up(ctx: Context) -> None:
    """Index the folder at start, off the loop, so the first new ticket does not wait for it in its transaction."""
    library = library_for(ctx.config)
    if library is None:
        return
    try:
        await library.index()
    except Exception:  # a knowledge base that cannot be read must not stop the helpdesk; its use says why
        log.exception("knowledge base %s could not be indexed", library.folder)
