"""The orientation flow: ask GPs, gather their answers, let the person choose, record the outcome.

    waiting ──solicitations_send──► proposing ──(enough GPs accepted, or nobody left to ask and
       ▲                               │          at least one accepted)──► awaiting_choice
       └──(nobody accepted, no candidate left)┘                                 │
                                                         placement_record ──► closed (mt_found)

- A GP is asked by e-mail through a signed link (`solicitation_url`): the message holds no name
  and no health data; the page shows the anonymised `household_summary` and two buttons.
- Without an answer by `answer_due_at`, the worker (`solicitations_follow_up`) reminds the GP
  once and gives a second delay; then the solicitation expires and the next candidate is asked.
- A refusal also moves on to the next candidate (origin "next").
- When `accepted_target` GPs have accepted (or nobody is left to ask and at least one accepted),
  the person receives the GPs' names, addresses and phones by e-mail and/or SMS (a letter can be
  printed for those with neither) and chooses freely; the outcome is recorded by the GP, the
  person (follow-up link) or the coordinator (`placement_record`), which closes the request as
  "MT found", counts against the GP's capacity this month and tells the referrer.

Every change and the messages announcing it are written in one transaction (outbox).

By concern: `links` (the GP's signed link), `messages` (to the GP, the person, the referrer),
`solicitations` (asking GPs, their answers, the follow-up job), `placements` (the outcome, the
restart). Other code imports the public names from here.
"""

from .errors import OrientationError
from .links import (
    TOKEN_MAX_AGE,
    TOKEN_SALT,
    solicitation_from_token,
    solicitation_token,
    solicitation_url,
)
from .messages import offer_letter, offer_text
from .placements import orientation_restart, placement_record
from .solicitations import (
    household_take,
    solicitation_answer,
    solicitations_follow_up,
    solicitations_send,
    solicitations_send_many,
    usual_gp_ask,
)

__all__ = [
    "TOKEN_MAX_AGE",
    "TOKEN_SALT",
    "OrientationError",
    "household_take",
    "offer_letter",
    "offer_text",
    "orientation_restart",
    "placement_record",
    "solicitation_answer",
    "solicitation_from_token",
    "solicitation_token",
    "solicitation_url",
    "solicitations_follow_up",
    "solicitations_send",
    "solicitations_send_many",
    "usual_gp_ask",
]
