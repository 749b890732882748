"""The standard templates of the embedded task, and the pieces every template shares.

A template is a function `rng -> (question, answer)`. Its answer is in GSM8K format, written
one annotated step at a time by `Solution`. Most templates admit several valid solution orders
(which product first, which pair of a sum first, factoring `(b+c)*a` versus `a*b+a*c`) and draw
the order of each problem's gold solution at random.

The standard set takes 2 to 4 steps over operands up to 40, every intermediate an integer and
every answer below 1000. The easy set lives in `rft.task.generator`.
"""

import random

from rft.filter.arithmetic import evaluate

NAMES = [
    ("Ava", "she"), ("Ben", "he"), ("Chloe", "she"), ("Diego", "he"), ("Emma", "she"),
    ("Farid", "he"), ("Grace", "she"), ("Hugo", "he"), ("Iris", "she"), ("Jamal", "he"),
    ("Keiko", "she"), ("Liam", "he"), ("Maya", "she"), ("Noah", "he"), ("Olga", "she"),
    ("Pedro", "he"), ("Quinn", "she"), ("Ravi", "he"), ("Sara", "she"), ("Tom", "he"),
]
ITEMS = ["apples", "pencils", "marbles", "stickers", "books", "shells", "cards", "stamps",
         "buttons", "candies", "beads", "coins", "leaves", "toy cars", "crayons", "seashells"]
CONTAINERS = ["boxes", "bags", "packs", "jars", "baskets", "crates"]
BAKED = ["cookies", "muffins", "cupcakes", "rolls", "bagels"]
STOCK = ["notebooks", "pens", "rulers", "folders", "markers", "erasers"]
PURCHASES = ["bike", "game", "jacket", "book set", "skateboard", "telescope"]


class Solution:
    """A GSM8K-format answer written one annotated step at a time."""

    def __init__(self):
        self.lines: list[str] = []
        self.value = 0

    def step(self, lead: str, expr: str, tail: str = "") -> int:
        """Append `lead expr=<<expr=v>>v tail.` and return v, the integer value of `expr`."""
        value = evaluate(expr)
        assert value.denominator == 1, f"template produced a fraction: {expr}"
        self.value = int(value)
        space = "" if lead.endswith("$") else " "  # "earns $4*5=..." reads as money
        self.lines.append(f"{lead}{space}{expr}=<<{expr}={self.value}>>{self.value}{tail}.")
        return self.value

    def text(self) -> str:
        return "\n".join(self.lines + [f"#### {self.value}"])


def people(
    rng: random.Random, k: int, names: list[tuple[str, str]] = NAMES
) -> list[tuple[str, str]]:
    """`k` distinct (name, pronoun) pairs from `names`."""
    return rng.sample(names, k)


def his(he: str) -> str:
    return "Her" if he == "she" else "His"


def him(he: str) -> str:
    return "her" if he == "she" else "him"


def products_sum(rng: random.Random) -> tuple[str, str]:
    """a*b + c*d items in boxes and bags; either product first."""
    name, he = people(rng, 1)[0]
    box, bag = rng.sample(CONTAINERS, 2)
    x_item, y_item = rng.sample(ITEMS, 2)
    a, b, c, d = (rng.randint(2, 12) for _ in range(4))
    q = (f"{name} buys {a} {box} of {x_item} with {b} {x_item} in each, and {c} {bag} of "
         f"{y_item} with {d} {y_item} in each. How many items does {he} buy in total?")
    s = Solution()
    if rng.random() < 0.5:
        x = s.step(f"{name} gets", f"{a}*{b}", f" {x_item}")
        y = s.step(f"{he.capitalize()} gets", f"{c}*{d}", f" {y_item}")
        s.step("In total that is", f"{x}+{y}", " items")
    else:
        y = s.step(f"{name} gets", f"{c}*{d}", f" {y_item}")
        x = s.step(f"{he.capitalize()} gets", f"{a}*{b}", f" {x_item}")
        s.step("In total that is", f"{y}+{x}", " items")
    return q, s.text()


def three_day_sum(rng: random.Random) -> tuple[str, str]:
    """a + b + c items over three days; any pair first."""
    name, he = people(rng, 1)[0]
    item = rng.choice(ITEMS)
    days = ["Monday", "Tuesday", "Wednesday"]
    counts = [rng.randint(2, 30) for _ in days]
    q = (f"{name} collected {counts[0]} {item} on Monday, {counts[1]} on Tuesday and "
         f"{counts[2]} on Wednesday. How many {item} did {he} collect in total?")
    s = Solution()
    first, second, last = rng.choice([(0, 1, 2), (1, 2, 0), (0, 2, 1)])
    pair = s.step(f"On {days[first]} and {days[second]} {he} collected",
                  f"{counts[first]}+{counts[second]}", f" {item}")
    s.step(f"Adding {days[last]} gives", f"{pair}+{counts[last]}", f" {item}")
    return q, s.text()


def times_as_many_total(rng: random.Random) -> tuple[str, str]:
    """a plus m times a; the multiple first, or factored as (1+m)*a."""
    (name, _), (friend, _) = people(rng, 2)
    item = rng.choice(ITEMS)
    m, word = rng.choice([(2, "twice"), (3, "three times"), (4, "four times")])
    a = rng.randint(3, 40)
    q = (f"{name} has {a} {item}. {friend} has {word} as many {item} as {name}. "
         f"How many {item} do they have together?")
    s = Solution()
    order = rng.randrange(3)
    if order < 2:
        x = s.step(f"{friend} has", f"{m}*{a}", f" {item}")
        s.step("Together they have", f"{a}+{x}" if order == 0 else f"{x}+{a}", f" {item}")
    else:
        k = s.step(f"Together they have 1 share plus {m} shares, which is", f"1+{m}", " shares")
        s.step("So they have", f"{k}*{a}", f" {item}")
    return q, s.text()


def eaten_from_each(rng: random.Random) -> tuple[str, str]:
    """a*b - a*c left after eating c from each of a boxes, or factored as a*(b-c)."""
    name, he = people(rng, 1)[0]
    box, item = rng.choice(CONTAINERS), rng.choice(["candies", "cookies", "grapes", "nuts"])
    a, b = rng.randint(2, 12), rng.randint(5, 20)
    c = rng.randint(2, b - 1)
    q = (f"{name} has {a} {box} with {b} {item} in each. {he.capitalize()} eats {c} {item} "
         f"from each of the {box}. How many {item} are left?")
    s = Solution()
    if rng.random() < 0.5:
        x = s.step("At first there are", f"{a}*{b}", f" {item}")
        y = s.step(f"{name} eats", f"{a}*{c}", f" {item}")
        s.step("So", f"{x}-{y}", f" {item} are left")
    else:
        k = s.step(f"Each of the {box} keeps", f"{b}-{c}", f" {item}")
        s.step("So", f"{a}*{k}", f" {item} are left")
    return q, s.text()


def weekend_wages(rng: random.Random) -> tuple[str, str]:
    """rate*h1 + rate*h2 earned; either day first, or factored as rate*(h1+h2)."""
    name, he = people(rng, 1)[0]
    rate, sat, sun = rng.randint(5, 20), rng.randint(2, 8), rng.randint(2, 8)
    q = (f"{name} earns ${rate} per hour. {he.capitalize()} works {sat} hours on Saturday and "
         f"{sun} hours on Sunday. How much money does {he} earn over the weekend?")
    s = Solution()
    order = rng.randrange(3)
    if order < 2:
        days = [("Saturday", sat), ("Sunday", sun)][:: 1 if order == 0 else -1]
        x = s.step(f"On {days[0][0]} {he} earns $", f"{rate}*{days[0][1]}")
        y = s.step(f"On {days[1][0]} {he} earns $", f"{rate}*{days[1][1]}")
        s.step(f"Over the weekend {he} earns $", f"{x}+{y}")
    else:
        h = s.step(f"{name} works", f"{sat}+{sun}", " hours")
        s.step(f"{he.capitalize()} earns $", f"{rate}*{h}")
    return q, s.text()


def baked_into_boxes(rng: random.Random) -> tuple[str, str]:
    """a*b / c boxes, or (b/c)*a: b is always a multiple of c."""
    name, _ = people(rng, 1)[0]
    item = rng.choice(BAKED)
    trays, per_box, boxes_per_tray = rng.randint(2, 12), rng.randint(2, 6), rng.randint(2, 5)
    per_tray = per_box * boxes_per_tray
    q = (f"{name} bakes {trays} trays of {item} with {per_tray} {item} on each tray. "
         f"The {item} are packed in boxes of {per_box}. How many boxes are needed?")
    s = Solution()
    if rng.random() < 0.5:
        total = s.step(f"{name} bakes", f"{trays}*{per_tray}", f" {item}")
        s.step("That fills", f"{total}/{per_box}", " boxes")
    else:
        k = s.step("Each tray fills", f"{per_tray}/{per_box}", " boxes")
        s.step("So", f"{trays}*{k}", " boxes are needed")
    return q, s.text()


def given_away(rng: random.Random) -> tuple[str, str]:
    """a - b - c left after two gifts; either gift first, or a - (b+c)."""
    (name, he), (f1, _), (f2, _) = people(rng, 3)
    item = rng.choice(ITEMS)
    b, c = rng.randint(2, 20), rng.randint(2, 20)
    a = b + c + rng.randint(1, 40)
    q = (f"{name} had {a} {item}. {he.capitalize()} gave {b} to {f1} and {c} to {f2}. "
         f"How many {item} does {name} have left?")
    s = Solution()
    order = rng.randrange(3)
    if order == 0:
        x = s.step(f"After giving {f1} some, {he} has", f"{a}-{b}", f" {item}")
        s.step(f"After giving {f2} some, {he} has", f"{x}-{c}", f" {item}")
    elif order == 1:
        x = s.step(f"After giving {f2} some, {he} has", f"{a}-{c}", f" {item}")
        s.step(f"After giving {f1} some, {he} has", f"{x}-{b}", f" {item}")
    else:
        given = s.step(f"{name} gave away", f"{b}+{c}", f" {item}")
        s.step(f"{he.capitalize()} has", f"{a}-{given}", f" {item} left")
    return q, s.text()


def change_from_bill(rng: random.Random) -> tuple[str, str]:
    """bill - (a*b + c*d) change; either product first, or paying one at a time."""
    name, he = people(rng, 1)[0]
    x_item, y_item = rng.sample(STOCK, 2)
    a, b, c, d = rng.randint(2, 6), rng.randint(2, 9), rng.randint(2, 6), rng.randint(1, 5)
    bill = 50 if a * b + c * d < 50 else 100
    q = (f"{name} buys {a} {x_item} for ${b} each and {c} {y_item} for ${d} each. "
         f"{he.capitalize()} pays with a ${bill} bill. How much change does {he} get?")
    s = Solution()
    order = rng.randrange(3)
    if order < 2:
        parts = [(x_item, f"{a}*{b}"), (y_item, f"{c}*{d}")][:: 1 if order == 0 else -1]
        x = s.step(f"The {parts[0][0]} cost $", parts[0][1])
        y = s.step(f"The {parts[1][0]} cost $", parts[1][1])
        total = s.step("Altogether that is $", f"{x}+{y}")
        s.step(f"{he.capitalize()} gets back $", f"{bill}-{total}")
    else:
        x = s.step(f"The {x_item} cost $", f"{a}*{b}")
        rest = s.step("After paying for them there is $", f"{bill}-{x}", " left")
        y = s.step(f"The {y_item} cost $", f"{c}*{d}")
        s.step(f"{he.capitalize()} gets back $", f"{rest}-{y}")
    return q, s.text()


def farm_legs(rng: random.Random) -> tuple[str, str]:
    """2*birds + 4*beasts legs; either kind first."""
    name, _ = people(rng, 1)[0]
    birds, beasts = rng.randint(2, 30), rng.randint(2, 30)
    bird, beast = rng.choice(["chickens", "ducks", "geese"]), rng.choice(["cows", "goats", "pigs"])
    q = (f"{name}'s farm has {birds} {bird} and {beasts} {beast}. How many legs do the "
         f"animals have in total?")
    s = Solution()
    if rng.random() < 0.5:
        x = s.step(f"The {bird} have", f"{birds}*2", " legs")
        y = s.step(f"The {beast} have", f"{beasts}*4", " legs")
        s.step("In total there are", f"{x}+{y}", " legs")
    else:
        y = s.step(f"The {beast} have", f"{beasts}*4", " legs")
        x = s.step(f"The {bird} have", f"{birds}*2", " legs")
        s.step("In total there are", f"{y}+{x}", " legs")
    return q, s.text()


def weekly_reading(rng: random.Random) -> tuple[str, str]:
    """(5*a + 2*b) * weeks pages; weekdays or weekend first."""
    name, he = people(rng, 1)[0]
    weekday, weekend, weeks = rng.randint(2, 20), rng.randint(2, 20), rng.randint(2, 4)
    q = (f"{name} reads {weekday} pages every weekday and {weekend} pages on each weekend day. "
         f"How many pages does {he} read in {weeks} weeks?")
    s = Solution()
    parts = [("weekdays", f"5*{weekday}"), ("weekend", f"2*{weekend}")]
    if rng.random() < 0.5:
        parts.reverse()
    x = s.step(f"On the {parts[0][0]} of one week {he} reads", parts[0][1], " pages")
    y = s.step(f"On the {parts[1][0]} of one week {he} reads", parts[1][1], " pages")
    week = s.step("In one week that is", f"{x}+{y}", " pages")
    s.step(f"In {weeks} weeks {he} reads", f"{week}*{weeks}", " pages")
    return q, s.text()


def savings(rng: random.Random) -> tuple[str, str]:
    """weekly*weeks + gift - price left; the gift or the purchase first."""
    name, he = people(rng, 1)[0]
    thing = rng.choice(PURCHASES)
    weekly, weeks, gift = rng.randint(2, 20), rng.randint(2, 10), rng.randint(2, 30)
    price = rng.randint(2, weekly * weeks)
    q = (f"{name} saves ${weekly} every week for {weeks} weeks. {his(he)} grandmother gives "
         f"{him(he)} ${gift}, and {he} spends ${price} on a {thing}. How much money is left?")
    s = Solution()
    saved = s.step(f"{name} saves $", f"{weekly}*{weeks}")
    if rng.random() < 0.5:
        more = s.step("With the gift there is $", f"{saved}+{gift}")
        s.step(f"After buying the {thing} there is $", f"{more}-{price}", " left")
    else:
        less = s.step(f"After buying the {thing} there is $", f"{saved}-{price}")
        s.step("With the gift there is $", f"{less}+{gift}", " left")
    return q, s.text()


TEMPLATES = [products_sum, three_day_sum, times_as_many_total, eaten_from_each, weekend_wages,
             baked_into_boxes, given_away, change_from_bill, farm_legs, weekly_reading,
             savings]
