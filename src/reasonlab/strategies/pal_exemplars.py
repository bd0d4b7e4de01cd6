"""Worked programs shown to `pal` (and `tree`'s code mode): (question, program) pairs.

- ``BUILTIN``: four short problems written for this project (the original default).
- ``GSM8K``: eight grade-school word problems in the PAL paper's format (Gao et al. 2022: eight
  ``def solution():`` programs, clearly named variables, one quantity per line), written for
  GSM8K train items at positions 200–226 (0-based) — outside the reserved report slice 0–199.
  Chosen for spread of procedure: rates and totals, an unknown price, working backwards, growth
  over repeated periods, percentage changes, a doubling series solved as an equation, units
  and round trips, "the rest".
"""

from __future__ import annotations

BUILTIN: list[tuple[str, str]] = [
    ("A baker makes 48 rolls. She sells 3 bags of 8 rolls each and gives away 5 rolls. "
     "How many rolls does she have left?",
     "def solution():\n"
     "    rolls_made = 48\n"
     "    rolls_sold = 3 * 8\n"
     "    rolls_given = 5\n"
     "    rolls_left = rolls_made - rolls_sold - rolls_given\n"
     "    return rolls_left"),
    ("A train travels 150 km in 2.5 hours. At the same speed, how far does it travel in 4 hours?",
     "def solution():\n"
     "    speed = 150 / 2.5  # km per hour\n"
     "    distance = speed * 4\n"
     "    return distance"),
    ("Tom has twice as many marbles as Ana. Together they have 36 marbles. How many marbles does Tom have?",
     "def solution():\n"
     "    # ana + 2 * ana = 36\n"
     "    ana = 36 / 3\n"
     "    tom = 2 * ana\n"
     "    return tom"),
    ("A shirt costs $40. It is on sale for 25% off, and then a $3 coupon is applied. What is the final price?",
     "def solution():\n"
     "    price = 40\n"
     "    sale_price = price * (1 - 0.25)\n"
     "    final_price = sale_price - 3\n"
     "    return final_price"),
]

# GSM8K train positions 200, 203, 206, 210, 211, 216, 220, 226 (questions verbatim; programs ours).
GSM8K: list[tuple[str, str]] = [
    ("Sansa is a famous artist, she can draw a portrait and sell it according to its size. She sells an "
     "8-inch portrait for $5, and a 16-inch portrait for twice the price of the 8-inch portrait. If she sells "
     "three 8-inch portraits and five 16-inch portraits per day, how many does she earns every 3 days?",
     "def solution():\n"
     "    price_small = 5\n"
     "    price_large = 2 * price_small\n"
     "    small_per_day = 3\n"
     "    large_per_day = 5\n"
     "    earned_per_day = small_per_day * price_small + large_per_day * price_large\n"
     "    days = 3\n"
     "    total = earned_per_day * days\n"
     "    return total"),
    ("Benny bought  2 soft drinks for$ 4 each and 5 candy bars. He spent a total of 28 dollars. "
     "How much did each candy bar cost?",
     "def solution():\n"
     "    drinks_cost = 2 * 4\n"
     "    total_spent = 28\n"
     "    candy_bars = 5\n"
     "    candy_cost = total_spent - drinks_cost\n"
     "    price_per_bar = candy_cost / candy_bars\n"
     "    return price_per_bar"),
    ("There are some lions in Londolozi at first. Lion cubs are born at the rate of 5 per month and lions "
     "die at the rate of 1 per month. If there are 148 lions in Londolozi after 1 year, how many lions were "
     "there in Londolozi at first?",
     "def solution():\n"
     "    born_per_month = 5\n"
     "    died_per_month = 1\n"
     "    months = 12\n"
     "    lions_after = 148\n"
     "    net_change = (born_per_month - died_per_month) * months\n"
     "    lions_at_first = lions_after - net_change\n"
     "    return lions_at_first"),
    ("Bobby has 16 toy cars, and the number of cars he has increases by 50% every year. How many toy cars "
     "will Bobby have in three years?",
     "def solution():\n"
     "    cars = 16\n"
     "    growth = 0.5\n"
     "    for year in range(3):\n"
     "        cars = cars + cars * growth\n"
     "    return cars"),
    ("Last year Jessica paid $1000 for rent, $200 for food, and $100 for car insurance each month. This year "
     "her rent goes up by 30%, food costs increase by 50%, and the cost of her car insurance triples because "
     "she was at fault in an accident. How much more does Jessica pay for her expenses over the whole year "
     "compared to last year?",
     "def solution():\n"
     "    rent, food, insurance = 1000, 200, 100\n"
     "    last_year_monthly = rent + food + insurance\n"
     "    this_year_monthly = rent * 1.30 + food * 1.50 + insurance * 3\n"
     "    extra_per_month = this_year_monthly - last_year_monthly\n"
     "    months = 12\n"
     "    extra_per_year = extra_per_month * months\n"
     "    return extra_per_year"),
    ("Missy had a giant piggy bank in her bedroom.  Every day she would search the house for change to put "
     "in her bank.  After 4 years, the bank was opened and it contained $450 in change.  If the second, "
     "third, and fourth-year she doubled the amount of money she put in the bank from the amount she had put "
     "in the previous year, how much money, in dollars, did she put in the bank the first year?",
     "def solution():\n"
     "    total = 450\n"
     "    # first year x, then 2x, 4x, 8x: total = (1 + 2 + 4 + 8) * x\n"
     "    multiples = 1 + 2 + 4 + 8\n"
     "    first_year = total / multiples\n"
     "    return first_year"),
    ("A car uses 20 gallons of gas to travel 400 miles. Mr. Montero's car has 8 gallons in it. How many more "
     "gallons of gas does he need to travel 600 miles, back and forth?",
     "def solution():\n"
     "    miles_per_gallon = 400 / 20\n"
     "    distance = 600 * 2  # back and forth\n"
     "    gallons_needed = distance / miles_per_gallon\n"
     "    gallons_in_tank = 8\n"
     "    more_gallons = gallons_needed - gallons_in_tank\n"
     "    return more_gallons"),
    ("There are 32 tables in a hall. Half the tables have 2 chairs each, 5 have 3 chairs each and the rest "
     "have 4 chairs each. How many chairs in total are in the hall?",
     "def solution():\n"
     "    tables = 32\n"
     "    tables_with_2 = tables / 2\n"
     "    tables_with_3 = 5\n"
     "    tables_with_4 = tables - tables_with_2 - tables_with_3\n"
     "    chairs = tables_with_2 * 2 + tables_with_3 * 3 + tables_with_4 * 4\n"
     "    return chairs"),
]

GSM8K_POSITIONS = (200, 203, 206, 210, 211, 216, 220, 226)

SETS: dict[str, list[tuple[str, str]]] = {"builtin": BUILTIN, "gsm8k": GSM8K}
