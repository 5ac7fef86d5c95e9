"""schemathesis checks for scripts/api-contract.sh.

`valid_data_accepted` is schemathesis's own `positive_data_acceptance` (a request valid by the
document must not be refused with 400 or 422), less the refusals listed in `RULES`: rules
that a JSON schema cannot state, each named by the error code the server answers with and
stated in words in the operation's description. Any other refusal of valid data still fails.
"""

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Operation -> error codes that may refuse data valid by its schema, and why.
RULES = {
    # `from` and `to` together: not reversed, at most ten years apart (and `from` defaults to
    # the first of this month, `to` to today).
    "GET /api/v1/indicators": {"invalid_period"},
    "GET /api/v1/indicators/report.xlsx": {"invalid_period"},
    # A full identity number must carry a valid check digit and a birth date in the past.
    "GET /api/v1/residents/search": {"invalid_search"},
    # Whether a point lies inside the territory depends on the territory loaded.
    "GET /api/v1/locate": {"point_outside_territory"},
    # Photos must be whole JPEG, PNG or WebP images; categories come from the catalogue; a
    # point must lie inside the territory.
    "POST /api/v1/cases": {
        "invalid_photo",
        "unknown_category",
        "point_outside_territory",
        "outside_territory",
    },
    "POST /api/v1/cases/{id}/steps": {"invalid_photo"},
    # Deadlines must lie in the future.
    "POST /api/v1/directives": {"deadline_passed"},
    "POST /api/v1/directives/{id}/amend": {"deadline_passed"},
    # A checklist's rules across questions: unique ids, conditions on earlier questions,
    # choices with options; and the households its filters leave depend on the register.
    "POST /api/v1/campaigns": {
        "no_households",
        "form_malformed",
        "form_duplicate_question",
        "form_bad_condition",
        "form_no_options",
    },
    # The body's code must be the path's, and exactly the leaves have a parent.
    "PUT /api/v1/categories/{code}": {"invalid_category"},
}


def _error(response):
    try:
        error = response.json()["error"]
        return error["code"], error["en"]
    except Exception:
        return None, ""


def _stated_everywhere(code, text):
    """A whole number written as `3.0`: JSON Schema's `integer` admits it, serde's integers do
    not, and every operation's 400 says so."""
    return code == "invalid_json" and "invalid type: floating point" in text


@schemathesis.check
def valid_data_accepted(ctx, response, case):
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        code, text = _error(response)
        if code in RULES.get(case.operation.label, set()) or _stated_everywhere(code, text):
            return None
        raise
