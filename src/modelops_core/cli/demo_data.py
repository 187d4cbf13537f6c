"""A realistic labelled data set for the demo: support tickets to route to a queue.

Tickets are written from templates with varied wording, typos, signatures and personal data
(emails, phone numbers, Luhn-valid card numbers, IBANs) sprinkled in, so the sanitizer has
real work to do. Some tickets are ambiguous on purpose, so accuracy is high but not perfect.
Deterministic for a seed.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

QUEUES: dict[str, tuple[str, ...]] = {
    "billing": (
        "I was charged twice for my {plan} subscription this month",
        "my invoice shows {amount} but the price on the website was lower",
        "please refund the duplicate payment on my card {card}",
        "why did my bill go up after the {plan} upgrade",
        "the payment failed although my card {card} is valid",
        "can I get a copy of the invoice for order {order}",
        "I need to change the billing address on my account",
        "you charged my card {card} after I cancelled",
    ),
    "shipping": (
        "my order {order} has not arrived yet and tracking says delivered",
        "the parcel for order {order} is stuck in transit for a week",
        "can you ship to a different address than {city}",
        "the courier left my package at the wrong door",
        "how long does delivery to {city} usually take",
        "order {order} arrived with a crushed box",
        "tracking number for order {order} does not work",
        "I want express delivery for my next order",
    ),
    "technical": (
        "the app crashes when I open the {feature} page",
        "I get error {error} when I try to sync",
        "the {feature} button does nothing on android",
        "after the update the app is very slow on my phone",
        "login works on the web but not in the app, error {error}",
        "the export to csv produces an empty file",
        "notifications stopped working since yesterday",
        "the {feature} screen is blank on my tablet",
    ),
    "account": (
        "I cannot reset my password, the email never arrives at {email}",
        "please change the email on my account to {email}",
        "how do I delete my account and all my data",
        "I want to merge my two accounts, the other one is {email}",
        "my username was changed without my consent",
        "please update my phone number to {phone}",
        "how can I add a second user to my account",
        "I forgot which email I used, maybe {email}",
    ),
    "returns": (
        "I want to return the {item} from order {order}",
        "the {item} I received is the wrong size, how do I exchange it",
        "where do I send the return for order {order}",
        "my return was received two weeks ago but no refund yet",
        "the {item} is defective and I want a replacement",
        "can I return an item bought on sale",
        "the return label for order {order} is missing",
        "I sent back the {item}, please confirm you got it",
    ),
    "security": (
        "someone logged into my account from another country",
        "I received a suspicious email asking for my password at {email}",
        "there are purchases on my account I did not make with card {card}",
        "please lock my account, I think it was hacked",
        "I got a text from {phone} pretending to be your support",
        "my two factor codes stopped arriving",
        "someone changed my password and I cannot log in",
        "I see a login from an unknown device on my account",
    ),
}

_OPENERS = ("", "hi, ", "hello, ", "hey team, ", "good morning, ", "urgent: ", "dear support, ")
_CLOSERS = (
    "",
    " thanks",
    " please help",
    " this is the second time I write",
    " call me at {phone}",
    " reply to {email}",
    " my IBAN for the refund is {iban}",
    " regards, {name}",
)
_PLANS = ("premium", "family", "pro", "basic", "annual")
_CITIES = ("Berlin", "Lyon", "Austin", "Leeds", "Porto", "Osaka", "Toronto")
_FEATURES = ("settings", "reports", "checkout", "profile", "dashboard", "search")
_ITEMS = ("jacket", "headphones", "blender", "shoes", "lamp", "backpack")
_NAMES = ("Anna Schmidt", "Luis Garcia", "Mei Tanaka", "John Carter", "Sara Okafor")
_DOMAINS = ("example.com", "mail.test", "inbox.example.org")


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    bank = "".join(str(rng.randrange(10)) for _ in range(18))
    rearranged = bank + "131400"  # "DE" -> 13 14, check digits 00
    check = 98 - int(rearranged) % 97
    return f"DE{check:02d}{bank}"


def _fill(template: str, rng: random.Random) -> str:
    values = {
        "plan": rng.choice(_PLANS),
        "amount": f"${rng.randrange(5, 300)}.{rng.randrange(100):02d}",
        "card": _luhn_card(rng),
        "order": f"#{rng.randrange(100000, 999999)}",
        "city": rng.choice(_CITIES),
        "feature": rng.choice(_FEATURES),
        "error": f"E{rng.randrange(100, 999)}",
        "email": f"{rng.choice(['anna', 'luis', 'mei', 'jc', 'sara'])}.{rng.randrange(99)}"
        f"@{rng.choice(_DOMAINS)}",
        "phone": f"+1 {rng.randrange(200, 999)}-{rng.randrange(200, 999)}-"
        f"{rng.randrange(1000, 9999)}",
        "item": rng.choice(_ITEMS),
        "iban": _iban(rng),
        "name": rng.choice(_NAMES),
    }
    return template.format(**values)


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 10 or rng.random() > 0.25:
        return text
    at = rng.randrange(1, len(text) - 1)
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]


def tickets(count: int = 2000, seed: int = 7, ambiguity: float = 0.06) -> Iterator[dict[str, str]]:
    """``count`` tickets as ``{"prompt": ticket text, "completion": queue}`` records.

    :param ambiguity: the share of tickets whose wording comes from another queue than
        their label (real tickets are not always routed by their words).
    """
    rng = random.Random(seed)
    names = sorted(QUEUES)
    for _ in range(count):
        queue = rng.choice(names)
        source = rng.choice(names) if rng.random() < ambiguity else queue
        body = _fill(rng.choice(QUEUES[source]), rng)
        text = rng.choice(_OPENERS) + body + _fill(rng.choice(_CLOSERS), rng)
        yield {"prompt": _typo(text, rng), "completion": queue}


def write_tickets(path: Path, count: int = 2000, seed: int = 7) -> Path:
    """Write the tickets as JSONL at ``path`` (atomically); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        for record in tickets(count, seed):
            handle.write(json.dumps(record) + "\n")
    os.replace(temporary, path)
    return path
