"""A labelled set of B2B comments: the themes a reader finds in each, and its overall tone.

Written by hand to measure the theme classifier (docs/model.md, "Verbatims"): comments in the voice of
procurement, IT, finance, end users and sponsors, with negations ("no outages"), mixed comments (two
themes, two tones) and comments about none of the themes. Labels say what a person reading the comment
would tag, not what the taxonomy's terms happen to match.
"""

from __future__ import annotations

from typing import Final

from services.analyzer.verbatims.sentiment import Label

Labelled = tuple[tuple[str, frozenset[str], Label], ...]


def _labelled(*rows: tuple[str, set[str], Label]) -> Labelled:
    """(comment, themes, overall tone) rows, the themes frozen."""
    return tuple((text, frozenset(themes), tone) for text, themes, tone in rows)


LABELLED: Final = _labelled(
    ("The renewal quote came in 18% higher with no explanation.", {"price"}, "negative"),
    ("Pricing is fair for what we get and the ROI was clear within a year.", {"price", "value"}, "positive"),
    ("Licences are far too expensive for the seats we actually use.", {"price"}, "negative"),
    ("Not cheap, but it pays for itself in saved analyst hours.", {"price", "value"}, "positive"),
    (
        "Finance keeps asking me to justify the spend and I struggle to show the value.",
        {"price", "value"},
        "negative",
    ),
    ("Invoices are confusing and billing got the PO number wrong twice.", {"price"}, "negative"),
    ("We got a sensible discount at renewal, appreciated.", {"price"}, "positive"),
    ("Setting up SSO took our team three weeks of back and forth.", {"effort"}, "negative"),
    ("The integration with our ERP was painless.", {"effort"}, "positive"),
    ("Too many manual steps to export a report; we built a workaround.", {"effort"}, "negative"),
    ("The admin console is clunky and the API documentation is thin.", {"effort", "communication"}, "negative"),
    ("Really intuitive, my team needed no training at all.", {"effort"}, "positive"),
    ("Onboarding new users is not difficult anymore since the last release.", {"effort", "innovation"}, "positive"),
    ("Configuring permissions is a nightmare for my admins.", {"effort"}, "negative"),
    ("Support answered within the hour and fixed it the same day.", {"support"}, "positive"),
    ("Our ticket has been open for three weeks without a reply.", {"support", "communication"}, "negative"),
    ("The helpdesk is friendly but slow to escalate anything serious.", {"support"}, "negative"),
    ("No complaints about support, the engineers know the product inside out.", {"support"}, "positive"),
    ("Response times on P1 tickets break the SLA we signed.", {"support"}, "negative"),
    ("Two outages in one month during our close; unacceptable.", {"reliability"}, "negative"),
    ("No downtime at all this year, rock solid.", {"reliability"}, "positive"),
    ("The nightly sync fails silently and we lose data.", {"reliability"}, "negative"),
    ("Performance has been stable since the migration.", {"reliability", "effort"}, "positive"),
    ("Reports are painfully slow at month end.", {"reliability"}, "negative"),
    ("It saves my team hours every week.", {"value"}, "positive"),
    ("Hard to see what business outcome we are getting for this.", {"value"}, "negative"),
    ("The productivity gains justified the business case easily.", {"value"}, "positive"),
    ("Their roadmap is exciting and they ship new features every month.", {"innovation"}, "positive"),
    ("The product feels dated compared to newer tools on the market.", {"innovation"}, "negative"),
    ("We asked for automation of approvals two years ago, still nothing.", {"innovation"}, "negative"),
    (
        "They really understand our industry and the regulation we work under.",
        {"business_understanding"},
        "positive",
    ),
    ("The consultants do not know our business and give generic advice.", {"business_understanding"}, "negative"),
    (
        "Every proposal is tailored to how our claims process actually works.",
        {"business_understanding"},
        "positive",
    ),
    ("We only hear about changes after they go live.", {"communication"}, "negative"),
    (
        "They kept us posted during the incident, clear and honest updates.",
        {"communication", "reliability"},
        "positive",
    ),
    ("Emails go unanswered unless I chase the account manager.", {"communication", "relationship"}, "negative"),
    ("Our account manager is a genuine partner and listens.", {"relationship"}, "positive"),
    ("It feels like they take us for granted since we signed.", {"relationship"}, "negative"),
    ("The quarterly business reviews are useful and the exec sponsor shows up.", {"relationship"}, "positive"),
    ("We have lost trust after the last renewal negotiation.", {"relationship", "price"}, "negative"),
    ("Great support team, but the price increase is hard to swallow.", {"support", "price"}, "negative"),
    ("Easy to use, although the outages last quarter hurt us.", {"effort", "reliability"}, "negative"),
    ("Good value overall, communication could be better.", {"value", "communication"}, "positive"),
    ("Oh great, another outage. Just what we needed.", {"reliability"}, "negative"),
    ("Love paying more every year for the same thing.", {"price"}, "negative"),
    ("Fine.", set(), "neutral"),
    ("Keep doing what you are doing.", set(), "positive"),
    ("Nothing to add this quarter.", set(), "neutral"),
)

# Written after the taxonomy and the domain lexicon were tuned on LABELLED, and never tuned on: the
# out-of-sample figures of docs/model.md come from this set.
HELD_OUT: Final = _labelled(
    ("Our CFO wants a three-year price lock before we sign again.", {"price"}, "neutral"),
    ("The per-seat model punishes us for growing.", {"price"}, "negative"),
    ("Cost per user dropped after we moved to the enterprise tier, nice.", {"price"}, "positive"),
    (
        "Rolling it out to the warehouse teams took far more effort than promised.",
        {"effort", "relationship"},
        "negative",
    ),
    ("Connecting it to Salesforce was a ten-minute job.", {"effort"}, "neutral"),
    ("Everything needs three clicks more than it should.", {"effort"}, "negative"),
    (
        "When we raised a ticket about the data export, support walked us through it on a call.",
        {"support"},
        "positive",
    ),
    ("First-line support just reads the script back to us.", {"support"}, "negative"),
    ("The platform was down for most of Tuesday and nobody told us.", {"reliability", "communication"}, "negative"),
    ("We hit errors on every bulk upload.", {"reliability"}, "negative"),
    ("Uptime has been excellent.", {"reliability"}, "positive"),
    ("We cut our audit preparation time in half, that alone is worth it.", {"value"}, "positive"),
    ("I am not sure we are getting our money's worth any more.", {"value", "price"}, "negative"),
    ("The new AI summaries are genuinely useful.", {"innovation"}, "positive"),
    ("Nothing new on the roadmap for our use case in a year.", {"innovation"}, "negative"),
    ("They still treat us like a retail client although we are a bank.", {"business_understanding"}, "negative"),
    (
        "Their team knows our compliance obligations better than some of our own people.",
        {"business_understanding"},
        "positive",
    ),
    ("Release notes arrive after the release, not before.", {"communication", "innovation"}, "negative"),
    ("The monthly update call keeps everyone aligned.", {"communication"}, "positive"),
    ("Our CSM changed three times this year; we start over each time.", {"relationship"}, "negative"),
    ("It feels like a real partnership now.", {"relationship"}, "positive"),
    ("Solid product, no complaints.", set(), "positive"),
    ("Price went up and the service went down.", {"price", "support"}, "negative"),
    ("Happy with how things are going.", set(), "positive"),
)
