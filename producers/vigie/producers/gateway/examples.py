"""xAPI statements shaped like what real platforms send, written from their documented shapes (not
copied): Moodle's ``logstore_xapi`` quiz statements and H5P's xAPI events. Used by the tests, the
demo, the load benchmark and docs/platforms.md's examples.

Moodle (``logstore_xapi``): actor ``{name, account: {homePage: <site>, name: <user id>}}``; one
``answered`` per question (object type ``cmi.interaction`` with ``interactionType``, ``result.response``
and ``success``, no duration), grouped under the site, the course, the quiz (``/mod/quiz/view.php?id=<cmid>``)
and the attempt; one ``completed`` per attempt whose object is the quiz, with the attempt's score
(raw/min/max/scaled), success and duration, the attempt in ``contextActivities.other``; no statement id.

H5P: ``attempted`` (no result) on the content, ``answered`` per (sub-)question with the content as
parent, ``completed`` on the content with the whole score, ``progressed``/``interacted``; object ids are
the content URL (``…?subContentId=<uuid>`` for sub-content) with ``h5p-local-content-id`` (and
``h5p-subContentId``) extensions; category ``http://h5p.org/libraries/H5P.<Library>-x.y``; score
``scaled`` rounded to 4 decimals; no id and no timestamp (the host adds neither here).
"""

from __future__ import annotations

import uuid
from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
ELEA = "https://elea.ac-lyon.fr"
H5P_HOST = "https://h5p.ecole-exemple.fr"
H5P_CONTENT_ID = "http://h5p.org/x-api/h5p-local-content-id"
H5P_SUBCONTENT_ID = "http://h5p.org/x-api/h5p-subContentId"


def moodle_actor(user_id: str, name: str = "Camille Martin") -> dict[str, Any]:
    return {"name": name, "account": {"homePage": ELEA, "name": user_id}}


def _moodle_context(
    cmid: int, attempt: int, *, registration: str | None = None, in_other: bool = False
) -> dict[str, Any]:
    site = {"id": ELEA, "definition": {"type": "http://id.tincanapi.com/activitytype/lms", "name": {"fr": "Éléa"}}}
    course = {
        "id": f"{ELEA}/course/view.php?id=12",
        "definition": {"type": "http://id.tincanapi.com/activitytype/lms/course", "name": {"fr": "Maths 6e B"}},
    }
    quiz = {
        "id": f"{ELEA}/mod/quiz/view.php?id={cmid}",
        "definition": {"type": "http://adlnet.gov/expapi/activities/assessment", "name": {"fr": "Fractions"}},
    }
    attempt_activity = {
        "id": f"{ELEA}/mod/quiz/attempt.php?attempt={attempt}&cmid={cmid}",
        "definition": {"type": "http://adlnet.gov/expapi/activities/attempt", "name": {"fr": "Tentative"}},
    }
    activities: dict[str, Any] = {
        "grouping": [site, course] + ([] if in_other else [quiz, attempt_activity]),
        "category": [
            {
                "id": "http://moodle.org",
                "definition": {"type": "http://id.tincanapi.com/activitytype/source", "name": {"en": "Moodle"}},
            }
        ],
    }
    if in_other:
        activities["other"] = [attempt_activity]
    context: dict[str, Any] = {
        "platform": "Moodle",
        "language": "fr",
        "extensions": {
            "http://lrs.learninglocker.net/define/extensions/info": {
                "http://moodle.org": "4.1.2",
                "https://github.com/xAPI-vle/moodle-logstore_xapi": "v4.7.0",
                "event_name": "\\mod_quiz\\event\\attempt_submitted",
            }
        },
        "contextActivities": activities,
    }
    if registration is not None:
        context["registration"] = registration
    return context


def moodle_question_answered(
    user_id: str = "48213",
    *,
    cmid: int = 57,
    question: int = 901,
    attempt: int = 3301,
    success: bool = True,
    response: str = "3/4",
    timestamp: str = "2026-11-30T09:12:44+01:00",
    registration: str | None = None,
) -> dict[str, Any]:
    return {
        "actor": moodle_actor(user_id),
        "verb": {"id": f"{ADL}answered", "display": {"fr": "answered"}},
        "object": {
            "id": f"{ELEA}/question/question.php?cmid={cmid}&id={question}",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "name": {"fr": f"Question {question}"},
                "interactionType": "choice",
                "correctResponsesPattern": ["3/4"],
                "choices": [{"id": "3/4", "description": {"fr": "3/4"}}, {"id": "4/3", "description": {"fr": "4/3"}}],
            },
        },
        "timestamp": timestamp,
        "result": {
            "response": response,
            "success": success,
            "completion": True,
            "extensions": {"http://learninglocker.net/xapi/cmi/choice/response": response},
        },
        "context": _moodle_context(cmid, attempt, registration=registration),
    }


def moodle_attempt_completed(
    user_id: str = "48213",
    *,
    cmid: int = 57,
    attempt: int = 3301,
    raw: float = 7.0,
    maximum: float = 10.0,
    timestamp: str = "2026-11-30T09:13:02+01:00",
    registration: str | None = None,
) -> dict[str, Any]:
    return {
        "actor": moodle_actor(user_id),
        "verb": {"id": f"{ADL}completed", "display": {"fr": "completed"}},
        "object": {
            "id": f"{ELEA}/mod/quiz/view.php?id={cmid}",
            "definition": {"type": "http://adlnet.gov/expapi/activities/assessment", "name": {"fr": "Fractions"}},
        },
        "timestamp": timestamp,
        "result": {
            "score": {"raw": raw, "min": 0.0, "max": maximum, "scaled": round(raw / maximum, 4)},
            "completion": True,
            "success": raw / maximum >= 0.5,
            "duration": "PT8M12S",
        },
        "context": _moodle_context(cmid, attempt, registration=registration, in_other=True),
    }


def moodle_attempt_started(
    user_id: str = "48213", *, cmid: int = 57, attempt: int = 3301, timestamp: str = "2026-11-30T09:04:50+01:00"
) -> dict[str, Any]:
    return {
        "actor": moodle_actor(user_id),
        "verb": {"id": f"{ADL}attempted", "display": {"fr": "attempted"}},
        "object": {
            "id": f"{ELEA}/mod/quiz/view.php?id={cmid}",
            "definition": {"type": "http://adlnet.gov/expapi/activities/assessment", "name": {"fr": "Fractions"}},
        },
        "timestamp": timestamp,
        "context": _moodle_context(cmid, attempt, in_other=True),
    }


def h5p_actor(email: str = "lea.dubois@ecole-exemple.fr") -> dict[str, Any]:
    return {"name": "Léa Dubois", "mbox": f"mailto:{email}", "objectType": "Agent"}


def _h5p_url(content_id: int) -> str:
    return f"{H5P_HOST}/wp-admin/admin-ajax.php?action=h5p_embed&id={content_id}"


def h5p_answered(
    actor: dict[str, Any] | None = None,
    *,
    content_id: int = 42,
    sub_content: str | None = None,
    raw: int = 1,
    maximum: int = 1,
    success: bool | None = None,
    duration: str = "PT3.45S",
    library: str = "H5P.MultiChoice-1.16",
) -> dict[str, Any]:
    sub_content = sub_content or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{content_id}/q1"))
    top = _h5p_url(content_id)
    return {
        "actor": actor or h5p_actor(),
        "verb": {"id": f"{ADL}answered", "display": {"en-US": "answered"}},
        "object": {
            "id": f"{top}?subContentId={sub_content}",
            "objectType": "Activity",
            "definition": {
                "extensions": {H5P_CONTENT_ID: content_id, H5P_SUBCONTENT_ID: sub_content},
                "name": {"en-US": "Combien font 7 × 8 ?"},
                "description": {"en-US": "<p>Combien font 7 × 8 ?</p>\n"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
                "correctResponsesPattern": ["1"],
                "choices": [
                    {"id": "0", "description": {"en-US": "54\n"}},
                    {"id": "1", "description": {"en-US": "56\n"}},
                ],
            },
        },
        "context": {
            "contextActivities": {
                "parent": [{"id": top, "objectType": "Activity"}],
                "category": [{"id": f"http://h5p.org/libraries/{library}", "objectType": "Activity"}],
            }
        },
        "result": {
            "score": {"min": 0, "max": maximum, "raw": raw, "scaled": round(raw / maximum, 4)},
            "completion": True,
            "success": raw == maximum if success is None else success,
            "duration": duration,
            "response": "1" if raw == maximum else "0",
        },
    }


def h5p_top(
    verb: str,
    actor: dict[str, Any] | None = None,
    *,
    content_id: int = 42,
    result: dict[str, Any] | None = None,
    library: str = "H5P.QuestionSet-1.20",
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "actor": actor or h5p_actor(),
        "verb": {"id": f"{ADL}{verb}", "display": {"en-US": verb}},
        "object": {
            "id": _h5p_url(content_id),
            "objectType": "Activity",
            "definition": {"extensions": {H5P_CONTENT_ID: content_id}, "name": {"en-US": "Tables de 7"}},
        },
        "context": {
            "contextActivities": {"category": [{"id": f"http://h5p.org/libraries/{library}", "objectType": "Activity"}]}
        },
    }
    if result is not None:
        statement["result"] = result
    return statement


def h5p_completed(actor: dict[str, Any] | None = None, *, content_id: int = 42, raw: int = 3, maximum: int = 4):
    return h5p_top(
        "completed",
        actor,
        content_id=content_id,
        result={
            "score": {"min": 0, "max": maximum, "raw": raw, "scaled": round(raw / maximum, 4)},
            "completion": True,
            "success": raw == maximum,
            "duration": "PT41.2S",
        },
    )


#: Every actor form the spec allows (agents by each identifier, anonymous and identified groups).
ACTOR_FORMS: dict[str, dict[str, Any]] = {
    "mbox": {"mbox": "mailto:eleve@ecole-exemple.fr"},
    "mbox_sha1sum": {"objectType": "Agent", "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
    "openid": {"openid": "https://openid.ecole-exemple.fr/eleve-17"},
    "account": {"name": "Élève", "account": {"homePage": ELEA, "name": "77"}},
    "anonymous group": {
        "objectType": "Group",
        "member": [{"mbox": "mailto:a@ecole-exemple.fr"}, {"account": {"homePage": ELEA, "name": "78"}}],
    },
    "identified group": {"objectType": "Group", "name": "6e B", "account": {"homePage": ELEA, "name": "group-6b"}},
}
