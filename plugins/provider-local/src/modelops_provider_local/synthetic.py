"""A generated support-ticket routing dataset (for tests, benchmarks and the demo; no download).

Six queues, each with its own sentence templates and vocabulary, plus the noise real tickets
have: greetings and sign-offs shared by every queue, typos, words that belong to another queue,
and a share of tickets whose label is simply wrong. The same ``seed`` gives the same tickets.
"""

from __future__ import annotations

import random

QUEUES: dict[str, dict[str, list[str]]] = {
    "billing": {
        "templates": [
            "I was charged {amount} twice for my {plan} plan",
            "why is there an extra charge of {amount} on my {card} statement",
            "please send me the invoice for {month}",
            "my {plan} subscription renewed but the price went up to {amount}",
            "can I get a refund of the {amount} overcharge",
            "the payment with my {card} failed but the invoice says paid",
        ],
        "plan": ["pro", "basic", "team", "enterprise", "annual"],
        "amount": ["$10", "$49.99", "$120", "20 euros", "$7", "$300"],
        "card": ["visa", "mastercard", "amex", "credit card", "debit card"],
        "month": ["january", "march", "june", "october", "last month"],
    },
    "technical": {
        "templates": [
            "the app crashes when I {action} on {device}",
            "I get error {code} every time I {action}",
            "the {feature} page is blank on {device}",
            "sync stopped working after the last update on {device}",
            "{feature} is extremely slow and times out with {code}",
            "cannot {action} since yesterday, it shows {code}",
        ],
        "action": ["upload a file", "open the dashboard", "export a report", "log in", "save"],
        "device": ["android", "iphone", "windows", "my mac", "chrome", "firefox"],
        "code": ["500", "e-1042", "timeout", "403", "null pointer", "502 bad gateway"],
        "feature": ["reports", "settings", "calendar", "search", "editor"],
    },
    "account": {
        "templates": [
            "I forgot my password and the reset email never arrives",
            "please change the email on my account to {email}",
            "how do I enable two factor authentication on {device}",
            "my account was locked after {n} login attempts",
            "I want to delete my account and all my data",
            "add {name} as an admin to our workspace",
        ],
        "email": ["jo@example.com", "my work address", "a new gmail address"],
        "device": ["my phone", "the app", "the website", "my tablet"],
        "n": ["three", "five", "too many", "10"],
        "name": ["my colleague", "sam", "the new manager", "priya"],
    },
    "shipping": {
        "templates": [
            "my order {order} has not arrived after {days}",
            "the tracking number for {order} does not work",
            "can you ship to {place} instead",
            "the courier says the package was delivered but I have nothing",
            "order {order} is stuck in customs in {place}",
            "how long does express delivery to {place} take",
        ],
        "order": ["#4411", "#90210", "12345", "#A-778", "from last week"],
        "days": ["two weeks", "10 days", "a month", "5 business days"],
        "place": ["canada", "my office", "berlin", "a po box", "australia"],
    },
    "returns": {
        "templates": [
            "I want to return the {item} it is {problem}",
            "how do I send back a {item} that arrived {problem}",
            "the {item} I received is the wrong size, can I exchange it",
            "please send a return label for my {item}",
            "my {item} arrived {problem}, I need a replacement",
            "is the return window still open for the {item} I bought",
        ],
        "item": ["jacket", "headphones", "shoes", "blender", "monitor", "backpack"],
        "problem": ["broken", "damaged", "defective", "scratched", "missing parts"],
    },
    "sales": {
        "templates": [
            "do you offer a discount for {seats} seats",
            "I would like a quote for the {plan} plan for {seats} users",
            "can we get a demo of {feature} for our team",
            "what is the price difference between {plan} and enterprise",
            "we are a nonprofit, is there special pricing for {seats} seats",
            "interested in upgrading to {plan}, who can I talk to",
        ],
        "seats": ["50", "200", "a thousand", "25", "our whole company"],
        "plan": ["team", "business", "enterprise", "pro"],
        "feature": ["analytics", "single sign on", "the api", "audit logs"],
    },
}

_GREETINGS = ["", "", "hi,", "hello team,", "good morning,", "hey,", "urgent:", "dear support,"]
_SIGNOFFS = ["", "", "thanks", "thank you!", "regards", "please help asap", "cheers"]


def support_tickets(
    n: int,
    *,
    seed: int = 0,
    label_noise: float = 0.03,
    typo_rate: float = 0.05,
    unique: bool = False,
) -> list[dict[str, str]]:
    """``n`` tickets as ``{"prompt": text, "completion": queue}`` records.

    :param label_noise: share of tickets given a random wrong queue.
    :param typo_rate: chance that each word has two letters swapped.
    :param unique: no two tickets share a prompt (dataset validation refuses duplicates).
    """
    rng = random.Random(seed)
    queues = sorted(QUEUES)
    every_word = sorted(
        {
            word
            for spec in QUEUES.values()
            for key, values in spec.items()
            if key != "templates"
            for value in values
            for word in value.split()
        }
    )
    records: list[dict[str, str]] = []
    seen: set[str] = set()
    attempts = 0
    while len(records) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise ValueError(f"cannot generate {n} distinct tickets; ask for fewer")
        queue = rng.choice(queues)
        spec = QUEUES[queue]
        template = rng.choice(spec["templates"])
        text = template.format_map(_Slots(spec, rng))
        words = text.split()
        if rng.random() < 0.3:  # a word from anywhere, as in rambling tickets
            words.insert(rng.randrange(len(words) + 1), rng.choice(every_word))
        words = [_typo(word, rng) if rng.random() < typo_rate else word for word in words]
        text = " ".join(filter(None, [rng.choice(_GREETINGS), *words, rng.choice(_SIGNOFFS)]))
        label = rng.choice(queues) if rng.random() < label_noise else queue
        if unique:
            if text in seen:
                continue
            seen.add(text)
        records.append({"prompt": text, "completion": label})
    return records


class _Slots(dict[str, str]):
    def __init__(self, spec: dict[str, list[str]], rng: random.Random) -> None:
        super().__init__()
        self.spec = spec
        self.rng = rng

    def __missing__(self, key: str) -> str:
        return self.rng.choice(self.spec[key])


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    position = rng.randrange(len(word) - 1)
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
