"""GSM8K-style word problems generated from templates: the project's own embedded task.

One problem is a dict `{question_id, question, answer}` whose answer is in GSM8K format: one
sentence per step with a calculator annotation (`She buys 3*4=<<3*4=12>>12 pens.`) and a last
line `#### 12`.

Two difficulties:
- "standard" (`rft.task.templates.TEMPLATES`): 2 to 4 steps over operands up to 40, 20 names,
  16 items; every answer below 1000.
- "easy" (`EASY_TEMPLATES`, below): 2 or 3 steps over single-digit operands (2..9) where the
  story allows, every number in the solution below 100, 6 names and 6 items, short sentences.
  Sized for the CPU demo, where models of about 1M parameters train from scratch in minutes.

In both, most templates admit several valid solution orders (which product first, which pair of
a sum first, factoring `(b+c)*a` versus `a*b+a*c`), and each problem's gold solution uses one
order drawn at random. A model trained on the set therefore sees several orders, so sampling
from it can later yield distinct equation lists: the diversity that RFT feeds on.

Deterministic: the same `(n, seed, split, difficulty)` always gives the same problems (only
`random.Random(seed)` is used).
"""

import random

from rft.task.templates import TEMPLATES, Solution, people

EASY_NAMES = [("Ava", "she"), ("Ben", "he"), ("Emma", "she"), ("Tom", "he"), ("Mia", "she"),
              ("Sam", "he")]
EASY_ITEMS = ["apples", "pens", "cards", "books", "shells", "coins"]
EASY_BAGS = ["bags", "boxes"]


def _digits(rng: random.Random, n: int, low: int = 2, high: int = 9) -> list[int]:
    return [rng.randint(low, high) for _ in range(n)]


def easy_products_sum(rng: random.Random) -> tuple[str, str]:
    """a*b + c*d items (sum below 100); either product first."""
    name, he = people(rng, 1, EASY_NAMES)[0]
    x, y = rng.sample(EASY_ITEMS, 2)
    a, b, c, d = _digits(rng, 4)
    while a * b + c * d >= 100:
        a, b, c, d = _digits(rng, 4)
    q = (f"{name} buys {a} bags of {x} with {b} {x} in each and {c} boxes of {y} with {d} "
         f"{y} in each. How many items does {he} buy?")
    s = Solution()
    parts = [(x, f"{a}*{b}"), (y, f"{c}*{d}")]
    if rng.random() < 0.5:
        parts.reverse()
    first = s.step(f"{name} gets", parts[0][1], f" {parts[0][0]}")
    second = s.step(f"{he.capitalize()} gets", parts[1][1], f" {parts[1][0]}")
    s.step("In total that is", f"{first}+{second}", " items")
    return q, s.text()


def easy_three_colors(rng: random.Random) -> tuple[str, str]:
    """a + b + c items of three colours; any pair first."""
    name, he = people(rng, 1, EASY_NAMES)[0]
    item = rng.choice(EASY_ITEMS)
    colors, counts = ["red", "blue", "green"], _digits(rng, 3)
    q = (f"{name} has {counts[0]} red {item}, {counts[1]} blue {item} and {counts[2]} green "
         f"{item}. How many {item} does {he} have?")
    s = Solution()
    first, second, last = rng.choice([(0, 1, 2), (1, 2, 0), (0, 2, 1)])
    pair = s.step(f"The {colors[first]} and {colors[second]} {item} are",
                  f"{counts[first]}+{counts[second]}")
    s.step(f"With the {colors[last]} {item} that is", f"{pair}+{counts[last]}", f" {item}")
    return q, s.text()


def easy_times_as_many(rng: random.Random) -> tuple[str, str]:
    """a plus m times a; the multiple first, or factored as (1+m)*a."""
    (name, _), (friend, _) = people(rng, 2, EASY_NAMES)
    item = rng.choice(EASY_ITEMS)
    m, a = rng.randint(2, 4), rng.randint(2, 9)
    q = (f"{name} has {a} {item}. {friend} has {m} times as many {item}. How many {item} do "
         f"they have together?")
    s = Solution()
    order = rng.randrange(3)
    if order < 2:
        x = s.step(f"{friend} has", f"{m}*{a}", f" {item}")
        s.step("Together they have", f"{a}+{x}" if order == 0 else f"{x}+{a}", f" {item}")
    else:
        k = s.step("Together they have", f"1+{m}", " shares")
        s.step("So they have", f"{k}*{a}", f" {item}")
    return q, s.text()


def easy_taken_from_each(rng: random.Random) -> tuple[str, str]:
    """a*b - a*c left after taking c from each of a bags, or factored as a*(b-c)."""
    name, he = people(rng, 1, EASY_NAMES)[0]
    bag, item = rng.choice(EASY_BAGS), rng.choice(EASY_ITEMS)
    a, b = rng.randint(2, 9), rng.randint(3, 9)
    c = rng.randint(2, b - 1)
    q = (f"{name} has {a} {bag} with {b} {item} in each. {he.capitalize()} takes {c} {item} "
         f"out of each. How many {item} are left?")
    s = Solution()
    if rng.random() < 0.5:
        x = s.step("At first there are", f"{a}*{b}", f" {item}")
        y = s.step(f"{name} takes", f"{a}*{c}", f" {item}")
        s.step("So", f"{x}-{y}", f" {item} are left")
    else:
        k = s.step(f"Each of the {bag} keeps", f"{b}-{c}", f" {item}")
        s.step("So", f"{a}*{k}", f" {item} are left")
    return q, s.text()


def easy_weekend_wages(rng: random.Random) -> tuple[str, str]:
    """rate*h1 + rate*h2 (below 100); either day first, or factored as rate*(h1+h2)."""
    name, he = people(rng, 1, EASY_NAMES)[0]
    rate, sat, sun = _digits(rng, 3)
    while rate * (sat + sun) >= 100:
        rate, sat, sun = _digits(rng, 3)
    q = (f"{name} earns ${rate} an hour. {he.capitalize()} works {sat} hours on Saturday and "
         f"{sun} hours on Sunday. How much does {he} earn?")
    s = Solution()
    order = rng.randrange(3)
    if order < 2:
        days = [("Saturday", sat), ("Sunday", sun)][:: 1 if order == 0 else -1]
        x = s.step(f"On {days[0][0]} {he} earns $", f"{rate}*{days[0][1]}")
        y = s.step(f"On {days[1][0]} {he} earns $", f"{rate}*{days[1][1]}")
        s.step(f"In all {he} earns $", f"{x}+{y}")
    else:
        h = s.step(f"{name} works", f"{sat}+{sun}", " hours")
        s.step(f"{he.capitalize()} earns $", f"{rate}*{h}")
    return q, s.text()


def easy_given_away(rng: random.Random) -> tuple[str, str]:
    """a - b - c left after two gifts; either gift first, or a - (b+c)."""
    (name, he), (f1, _), (f2, _) = people(rng, 3, EASY_NAMES)
    item = rng.choice(EASY_ITEMS)
    b, c = _digits(rng, 2)
    a = b + c + rng.randint(1, 9)
    q = (f"{name} had {a} {item}. {he.capitalize()} gave {b} to {f1} and {c} to {f2}. "
         f"How many {item} does {he} have left?")
    s = Solution()
    order = rng.randrange(3)
    if order < 2:
        gifts = [(f1, b), (f2, c)][:: 1 if order == 0 else -1]
        x = s.step(f"After giving {gifts[0][0]} some, {he} has", f"{a}-{gifts[0][1]}", f" {item}")
        s.step(f"After giving {gifts[1][0]} some, {he} has", f"{x}-{gifts[1][1]}", f" {item}")
    else:
        given = s.step(f"{name} gave away", f"{b}+{c}", f" {item}")
        s.step(f"{he.capitalize()} has", f"{a}-{given}", f" {item} left")
    return q, s.text()


def easy_farm_legs(rng: random.Random) -> tuple[str, str]:
    """2*hens + 4*cows legs; either kind first."""
    name, _ = people(rng, 1, EASY_NAMES)[0]
    hens, cows = _digits(rng, 2)
    q = f"{name} has {hens} hens and {cows} cows. How many legs do they have?"
    s = Solution()
    parts = [("hens", f"{hens}*2"), ("cows", f"{cows}*4")]
    if rng.random() < 0.5:
        parts.reverse()
    x = s.step(f"The {parts[0][0]} have", parts[0][1], " legs")
    y = s.step(f"The {parts[1][0]} have", parts[1][1], " legs")
    s.step("In total there are", f"{x}+{y}", " legs")
    return q, s.text()


def easy_boxes(rng: random.Random) -> tuple[str, str]:
    """trays*per_tray / per_box boxes (product below 100), or (per_tray/per_box)*trays."""
    name, he = people(rng, 1, EASY_NAMES)[0]
    trays, per_box, boxes_per_tray = rng.randint(2, 9), rng.randint(2, 5), rng.randint(2, 3)
    while trays * per_box * boxes_per_tray >= 100:
        trays = rng.randint(2, 9)
    per_tray = per_box * boxes_per_tray
    q = (f"{name} bakes {trays} trays with {per_tray} cookies on each. {he.capitalize()} packs "
         f"them in boxes of {per_box}. How many boxes does {he} fill?")
    s = Solution()
    if rng.random() < 0.5:
        total = s.step(f"{name} bakes", f"{trays}*{per_tray}", " cookies")
        s.step("That fills", f"{total}/{per_box}", " boxes")
    else:
        k = s.step("Each tray fills", f"{per_tray}/{per_box}", " boxes")
        s.step("So", f"{trays}*{k}", " boxes are filled")
    return q, s.text()


def easy_savings(rng: random.Random) -> tuple[str, str]:
    """weekly*weeks + gift - price left; the gift or the purchase first."""
    name, he = people(rng, 1, EASY_NAMES)[0]
    weekly, weeks, gift = rng.randint(2, 9), rng.randint(2, 5), rng.randint(2, 9)
    price = rng.randint(2, weekly * weeks)
    q = (f"{name} saves ${weekly} a week for {weeks} weeks. {he.capitalize()} gets ${gift} as "
         f"a gift and spends ${price} on a game. How much money is left?")
    s = Solution()
    saved = s.step(f"{name} saves $", f"{weekly}*{weeks}")
    if rng.random() < 0.5:
        more = s.step("With the gift there is $", f"{saved}+{gift}")
        s.step("After the game there is $", f"{more}-{price}", " left")
    else:
        less = s.step("After the game there is $", f"{saved}-{price}")
        s.step("With the gift there is $", f"{less}+{gift}", " left")
    return q, s.text()


EASY_TEMPLATES = [easy_products_sum, easy_three_colors, easy_times_as_many,
                  easy_taken_from_each, easy_weekend_wages, easy_given_away, easy_farm_legs,
                  easy_boxes, easy_savings]
TEMPLATES_BY_DIFFICULTY = {"standard": TEMPLATES, "easy": EASY_TEMPLATES}


def _problem_stream(seed: int, templates: list):
    """Endless (question, answer) pairs drawn from one seed."""
    rng = random.Random(seed)
    while True:
        yield rng.choice(templates)(rng)


def generate_problems(
    n: int, seed: int, split: str, exclude: frozenset[str] = frozenset(),
    difficulty: str = "standard",
) -> list[dict]:
    """`n` distinct problems with ids `emb-{split}-00000`...; questions in `exclude` are skipped."""
    if difficulty not in TEMPLATES_BY_DIFFICULTY:
        raise ValueError(f"unknown difficulty {difficulty!r} "
                         f"(known: {', '.join(TEMPLATES_BY_DIFFICULTY)})")
    problems: list[dict] = []
    seen = set(exclude)
    stream = _problem_stream(seed, TEMPLATES_BY_DIFFICULTY[difficulty])
    for attempt, (question, answer) in enumerate(stream):
        if len(problems) == n:
            break
        if attempt > 100 * n + 10_000:  # the templates cannot be this short of new questions
            raise ValueError(f"could not find {n} new questions with seed {seed}")
        if question not in seen:
            seen.add(question)
            problems.append({"question_id": f"emb-{split}-{len(problems):05d}",
                             "question": question, "answer": answer})
    return problems


def embedded_task(
    n_train: int = 2000, n_test: int = 500, seed: int = 0, difficulty: str = "standard"
) -> tuple[list[dict], list[dict]]:
    """Train and test problems from disjoint seeds, no test question also in train."""
    # Train seeds are even and test seeds odd, so no base seed's test reuses any train stream.
    train = generate_problems(n_train, 2 * seed, "train", difficulty=difficulty)
    test = generate_problems(n_test, 2 * seed + 1, "test", frozenset(p["question"] for p in train),
                             difficulty=difficulty)
    return train, test
