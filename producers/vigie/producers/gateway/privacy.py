"""Who the actor is, and the statement as the gateway keeps it: no raw identifier of a person.

``actor_raw_id`` reads the pupil's id the roster is keyed by (``account.name``, else the e-mail of
``mbox``, else ``mbox_sha1sum``, else ``openid``). ``kept_statement`` replaces every agent and group
(actor, object, context instructor and team, 2.0.0 context agents, group members, sub-statements) by
``{"objectType", "account": {"homePage": PSEUDONYM_HOME, "name": <keyed pseudonym>}}`` — names
dropped — with the same HMAC as contract events, so a kept statement's actor is the pupil's
``student_id``; it sets ``id``, ``stored``, ``authority``, ``version`` and, when absent, ``timestamp``.
"""

from __future__ import annotations

from typing import Any

from vigie.producers.pseudonym import IdentifierKind, Pseudonymizer

PSEUDONYM_HOME = "urn:vigie:pseudonym"
PLATFORM_HOME = "urn:vigie:platform"
_IFIS = ("account", "mbox", "mbox_sha1sum", "openid")
#: Vigie's own context extensions carrying raw class/teacher ids (see ``vigie.producers.xapi``).
_RAW_EXTENSIONS: dict[str, IdentifierKind] = {"urn:vigie:xapi:class": "class", "urn:vigie:xapi:teacher": "teacher"}


def actor_raw_id(actor: Any) -> str | None:
    """The raw id of a single agent, or None for a group or an agent without identifier."""
    if not isinstance(actor, dict) or actor.get("objectType") == "Group":
        return None
    account = actor.get("account")
    if isinstance(account, dict) and isinstance(account.get("name"), str):
        return account["name"]
    if isinstance(actor.get("mbox"), str):
        return actor["mbox"].removeprefix("mailto:")
    for key in ("mbox_sha1sum", "openid"):
        if isinstance(actor.get(key), str):
            return actor[key]
    return None


def _agent_raw(node: dict[str, Any]) -> str | None:
    account = node.get("account")
    if isinstance(account, dict) and isinstance(account.get("name"), str):
        homepage = account.get("homePage")
        return account["name"] if node.get("objectType") != "Group" else f"{homepage}|{account['name']}"
    for key in _IFIS[1:]:
        if isinstance(node.get(key), str):
            return node[key].removeprefix("mailto:") if key == "mbox" else node[key]
    return None


def pseudonymise_agents(node: Any, keys: Pseudonymizer, kind: IdentifierKind = "student") -> Any:
    """A copy of ``node`` with every agent or group replaced by its pseudonymous account."""
    if isinstance(node, list):
        return [pseudonymise_agents(item, keys, kind) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("objectType") in ("Agent", "Group") or any(key in node for key in _IFIS):
        agent: dict[str, Any] = {"objectType": node.get("objectType", "Agent")}
        raw = _agent_raw(node)
        if raw is not None:
            agent["account"] = {"homePage": PSEUDONYM_HOME, "name": keys.pseudonym(kind, raw)}
        if isinstance(node.get("member"), list):
            agent["member"] = pseudonymise_agents(node["member"], keys, kind)
        return agent
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "extensions" and isinstance(value, dict):
            out[key] = {
                ext: keys.pseudonym(_RAW_EXTENSIONS[ext], str(val)) if ext in _RAW_EXTENSIONS else val
                for ext, val in value.items()
            }
        else:
            out[key] = pseudonymise_agents(value, keys, "teacher" if key in ("instructor", "contextAgents") else kind)
    return out


def kept_statement(
    statement: dict[str, Any], *, statement_id: str, stored: str, platform: str, version: str, keys: Pseudonymizer
) -> dict[str, Any]:
    """The statement as stored and served back: pseudonymous, with the properties an LRS sets."""
    kept = pseudonymise_agents({k: v for k, v in statement.items() if k != "authority"}, keys)
    kept["id"] = statement_id
    kept.setdefault("timestamp", stored)
    kept["stored"] = stored
    kept["authority"] = {"objectType": "Agent", "account": {"homePage": PLATFORM_HOME, "name": platform}}
    kept["version"] = statement.get("version") or ("2.0.0" if version.startswith("2") else "1.0.0")
    return kept
