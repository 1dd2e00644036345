"""Discord's limits on what a bot sends, checked by the fake as Discord checks them (400, code 50035).

From https://discord.com/developers/docs/components/reference and .../resources/message#create-message:
a message's content is at most 2,000 characters; legacy components are at most 5 action rows,
each holding up to 5 buttons or exactly one select; custom ids are at most 100 characters and
unique in the message; a button's label at most 80; a select has 1-25 options (a string select)
with labels and values of at most 100 and a placeholder of at most 150. A modal has a title of at
most 45 characters and 1-5 rows; a text input's label at most 45, placeholder 100, value 4,000.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
SELECTS = (3, 5, 6, 7, 8)  # string, user, role, mentionable, channel


def message_problems(body: Json) -> list[str]:
    """What Discord would refuse in a message body (create, edit, follow-up, interaction answer)."""
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append("content: longer than 2000")
    rows = body.get("components") or []
    if len(rows) > 5:
        problems.append("components: more than 5 action rows")
    ids: list[str] = []
    for row in rows:
        items = row.get("components") or []
        selects = [c for c in items if c.get("type") in SELECTS]
        if not items or len(items) > 5 or (selects and len(items) > 1):
            problems.append("components: a row holds 1-5 buttons or one select")
        for item in items:
            problems += _item_problems(item)
            if item.get("custom_id"):
                ids.append(item["custom_id"])
    if len(ids) != len(set(ids)):
        problems.append("components: custom ids must be unique")
    return problems


def modal_problems(data: Json) -> list[str]:
    problems = [] if len(data.get("title") or "") <= 45 else ["title: longer than 45"]
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        problems.append("components: a modal holds 1-5 rows")
    for row in rows:
        for item in row.get("components") or [row.get("component") or {}]:
            if item.get("type") == 4:
                problems += [f"text input {k}: too long" for k, n in (("label", 45), ("placeholder", 100),
                                                                      ("value", 4000)) if len(item.get(k) or "") > n]
    return problems


def _item_problems(item: Json) -> list[str]:
    problems = []
    if len(item.get("custom_id") or "") > 100:
        problems.append("custom_id: longer than 100")
    if item.get("type") == 2 and len(item.get("label") or "") > 80:
        problems.append("button label: longer than 80")
    if item.get("type") in SELECTS and len(item.get("placeholder") or "") > 150:
        problems.append("select placeholder: longer than 150")
    if item.get("type") == 3:
        options = item.get("options") or []
        if not 1 <= len(options) <= 25:
            problems.append("string select: 1-25 options")
        if any(len(o.get("label") or "") > 100 or len(o.get("value") or "") > 100 for o in options):
            problems.append("select option: label or value longer than 100")
    return problems
