"""Companies and text templates of the sample feed (``generate.py``).

Every template was written for this project: invented but realistic headlines and posts,
not taken from any dataset. Companies are S&P 500 constituents, named as sentimon's
shipped universe names them (``sentimon/data/universe.csv``).
"""

from __future__ import annotations

#: ticker -> (the name news uses, a business line for "{biz} sales")
COMPANIES = {
    "AAPL": ("Apple", "iPhone"),
    "MSFT": ("Microsoft", "cloud"),
    "NVDA": ("Nvidia", "data-center"),
    "AMZN": ("Amazon", "online retail"),
    "GOOGL": ("Alphabet", "search advertising"),
    "META": ("Meta", "advertising"),
    "TSLA": ("Tesla", "electric vehicle"),
    "JPM": ("JPMorgan Chase", "investment banking"),
    "BAC": ("Bank of America", "consumer banking"),
    "XOM": ("ExxonMobil", "refining"),
    "CVX": ("Chevron", "upstream"),
    "PFE": ("Pfizer", "vaccine"),
    "JNJ": ("Johnson & Johnson", "medical device"),
    "WMT": ("Walmart", "grocery"),
    "KO": ("Coca-Cola", "beverage"),
    "DIS": ("Disney", "theme park"),
    "NFLX": ("Netflix", "subscription"),
    "INTC": ("Intel", "PC chip"),
    "AMD": ("AMD", "server processor"),
    "BA": ("Boeing", "commercial jet"),
    "GS": ("Goldman Sachs", "trading"),
    "NKE": ("Nike", "footwear"),
    "BRK.B": ("Berkshire Hathaway", "insurance"),
    "UBER": ("Uber", "ride-hailing"),
    "PEP": ("PepsiCo", "snack"),
    "COST": ("Costco", "membership"),
    "HD": ("Home Depot", "home improvement"),
    "LOW": ("Lowe's", "home improvement"),
    "MCD": ("McDonald's", "same-store"),
    "SBUX": ("Starbucks", "coffee"),
    "CRM": ("Salesforce", "software subscription"),
    "ADBE": ("Adobe", "creative software"),
    "QCOM": ("Qualcomm", "smartphone chip"),
    "AVGO": ("Broadcom", "networking chip"),
    "TXN": ("Texas Instruments", "analog chip"),
    "MU": ("Micron Technology", "memory chip"),
    "AMAT": ("Applied Materials", "chip equipment"),
    "CAT": ("Caterpillar", "construction equipment"),
    "MA": ("Mastercard", "card payment"),
    "AXP": ("American Express", "card"),
    "MS": ("Morgan Stanley", "wealth management"),
    "WFC": ("Wells Fargo", "mortgage"),
    "C": ("Citigroup", "trading"),
    "GM": ("General Motors", "truck"),
    "DAL": ("Delta Air Lines", "international travel"),
    "UAL": ("United Airlines", "premium cabin"),
    "VZ": ("Verizon", "wireless"),
    "T": ("AT&T", "fiber"),
    "CMCSA": ("Comcast", "broadband"),
    "LLY": ("Eli Lilly", "obesity drug"),
    "MRK": ("Merck", "cancer drug"),
    "ABBV": ("AbbVie", "immunology drug"),
    "AMGN": ("Amgen", "biotech drug"),
    "COP": ("ConocoPhillips", "shale"),
    "SLB": ("Schlumberger", "oilfield services"),
    "LMT": ("Lockheed Martin", "fighter jet"),
    "HON": ("Honeywell", "automation"),
    "UPS": ("United Parcel Service", "parcel"),
    "FDX": ("FedEx", "parcel"),
    "PG": ("Procter & Gamble", "household goods"),
    "CL": ("Colgate-Palmolive", "toothpaste"),
    "KR": ("Kroger", "grocery"),
    "HSY": ("Hershey", "chocolate"),
    "NEE": ("NextEra Energy", "renewable power"),
    "PLD": ("Prologis", "warehouse leasing"),
    "LIN": ("Linde", "industrial gas"),
    "NEM": ("Newmont", "gold"),
    "CSCO": ("Cisco", "networking"),
    "ABNB": ("Airbnb", "bookings"),
    "LULU": ("Lululemon", "apparel"),
}
#: The tickers of the ticker-field and cashtag posts (the feed's original 24).
TICKERS = list(COMPANIES)[:24]
#: Companies named without a ticker: names that are mostly ordinary words ("Apple",
#: "Amazon", "Meta") or a short form of the registered name ("Disney") are left to the
#: ticker posts. The universe marks other names ambiguous too ("Chevron", "Intel"): the
#: templates put a business word next to every name, as headlines do, so they link.
NAME_ONLY = [t for t in COMPANIES if t not in {"AAPL", "AMZN", "META", "DIS"}]
#: Rivals named together in one post with opposite sentiment.
RIVALS = [
    ("KO", "PEP"), ("HD", "LOW"), ("WMT", "COST"), ("MCD", "SBUX"), ("DAL", "UAL"),
    ("GS", "MS"), ("JPM", "BAC"), ("WFC", "C"), ("XOM", "CVX"), ("PFE", "MRK"),
    ("LLY", "ABBV"), ("INTC", "AMD"), ("NVDA", "AMD"), ("QCOM", "AVGO"), ("CRM", "ADBE"),
    ("UPS", "FDX"), ("BA", "LMT"), ("VZ", "T"), ("NFLX", "CMCSA"), ("PG", "CL"),
    ("KR", "WMT"), ("TSLA", "GM"), ("NKE", "LULU"), ("MA", "AXP"), ("COP", "SLB"),
]  # fmt: skip

NEWS = {
    "positive": [
        "{name} beats quarterly estimates as revenue jumps {pct}%",
        "{name} raises full-year guidance on strong demand",
        "{name} shares climb after upbeat analyst upgrade to buy",
        "{name} announces ${amt}bn share buyback, stock rallies",
        "{name} wins major contract, shares hit record high",
        "Analysts lift {name} price target after blowout results",
    ],
    "negative": [
        "{name} misses earnings forecasts, shares slide {pct}%",
        "{name} cuts outlook citing weak demand",
        "{name} downgraded to sell on margin pressure",
        "Regulators open probe into {name} accounting practices",
        "{name} shares tumble after CEO unexpectedly resigns",
        "{name} announces layoffs of {amt},000 workers amid slowdown",
    ],
    "neutral": [
        "{name} to report third-quarter results next week",
        "{name} schedules annual shareholder meeting for March",
        "{name} names new chief financial officer",
        "{name} completes previously announced debt offering",
        "{name} shares unchanged ahead of Fed decision",
        "{name} to present at industry conference on Thursday",
    ],
}
NAMED_NEWS = {
    "positive": [
        "{name} shares climb after {biz} sales beat estimates",
        "{name} raises full-year outlook on strong {biz} demand",
        "{name} rallies after analysts upgrade the stock to buy",
        "{name} posts record quarterly profit; shares up {pct}%",
        "{name} unveils ${amt}bn buyback and lifts its dividend",
        "{name} shares draw higher price targets after strong {biz} results",
    ],
    "negative": [
        "{name} shares fall {pct}% after quarterly revenue misses forecasts",
        "{name} cuts annual guidance, citing softer {biz} orders",
        "{name} slides after regulators open an inquiry into its pricing",
        "{name} to cut {amt},000 jobs as {biz} sales weaken",
        "Analysts downgrade {name} on shrinking margins",
        "{name} warns of a weaker holiday quarter; stock drops {pct}%",
    ],
    "neutral": [
        "{name} to report quarterly results after the bell on Thursday",
        "{name} names new chief operating officer",
        "{name} to hold its annual investor day in March",
        "{name} sells ${amt}bn of bonds to refinance debt",
        "{name} shares flat ahead of the Fed decision",
        "{name} to present at an industry conference next week",
    ],
}
#: Two companies: ``_a`` fares well, ``_b`` badly (the generator picks which is which).
PAIR_NEWS = [
    "{name_a} gains on upbeat forecast while {name_b} slides",
    "{name_a} beats profit estimates, while {name_b} cuts its outlook",
    "{name_a} shares rise after an upgrade, but {name_b} falls on weak {biz_b} sales",
    "{name_a} jumps on record {biz_a} orders; {name_b} drops after a guidance cut",
    "{name_a} rallies as {name_b} tumbles on a surprise quarterly loss",
    "{name_b} slumps after missing estimates, while {name_a} climbs to a record",
    "{name_b} warns on margins; {name_a} lifts its dividend",
]
#: Market wraps: four to eight companies of the pool, each named in passing.
WRAPS = [
    (
        "Bank stocks edge higher in afternoon trade: {names} each rise about {pct}%",
        ["JPM", "BAC", "WFC", "C", "GS", "MS", "AXP", "BRK.B"],
    ),
    (
        "Chip stocks slip as Treasury yields climb; {names} all trade lower",
        ["NVDA", "AMD", "INTC", "QCOM", "AVGO", "TXN", "MU", "AMAT"],
    ),
    (
        "Most active consumer names at midday: {names}",
        ["WMT", "COST", "KO", "PEP", "PG", "MCD", "SBUX", "HD", "LOW", "KR"],
    ),
    (
        "Energy shares track crude higher, with {names} up as much as {pct}%",
        ["XOM", "CVX", "COP", "SLB", "NEE", "LIN", "NEM"],
    ),
    (
        "Industrials in focus after factory data: {names} move with the market",
        ["BA", "CAT", "HON", "LMT", "UPS", "FDX", "GM", "DAL", "UAL"],
    ),
    (
        "Drugmakers little changed as investors weigh pricing talks: {names}",
        ["LLY", "PFE", "MRK", "ABBV", "JNJ", "AMGN"],
    ),
]

SOCIAL = {
    "positive": [
        "${t} breaking out, loading more calls",
        "${t} earnings were fantastic, long and strong",
        "Bullish on ${t}, this dip was a gift",
        "${t} to the moon, guidance was way better than expected",
        "Added to my ${t} position today, fundamentals look great",
    ],
    "negative": [
        "${t} looks terrible, dumping my shares",
        "Bearish on ${t}, that guidance was a disaster",
        "${t} breaking down hard, stop losses everywhere",
        "Selling all my ${t}, management has lost the plot",
        "${t} puts printing today, this is going lower",
    ],
    "neutral": [
        "Anyone watching ${t} into the close?",
        "${t} volume is average today",
        "What is the consensus on ${t} earnings date?",
        "Holding ${t} for now, waiting for the report",
        "${t} trading sideways all session",
    ],
}
NAMED_SOCIAL = {
    "positive": [
        "{name} earnings were great, adding more shares",
        "Really impressed by {name} this quarter, {biz} numbers look strong",
        "{name} beat estimates again, holding long term",
        "Bought more {name} shares on the dip today",
    ],
    "negative": [
        "{name} guidance was a letdown, trimming my position",
        "Not touching {name} stock after that earnings miss",
        "{name} margins keep shrinking, I sold everything",
        "Rough {name} earnings call, {biz} demand is fading",
    ],
    "neutral": [
        "Anyone else watching {name} shares into earnings?",
        "{name} stock trading flat all session",
        "What do people expect from {name} earnings next quarter?",
        "Waiting on the {name} report before doing anything",
    ],
}
#: Two cashtags: ``a`` fares well, ``b`` badly.
PAIR_SOCIAL = [
    "${a} ripping today while ${b} keeps bleeding",
    "Sold my ${b} after that awful guide, but ${a} looks great into earnings",
    "${a} beat and raised; ${b} missed badly",
    "${b} is dead money while ${a} is where the growth is",
]

BURST_NEWS = [
    "Nvidia recalls data-center chips over overheating defect, shares plunge",
    "Nvidia slashes revenue guidance after recall, stock sinks {pct}%",
    "Nvidia faces class-action lawsuit over chip defect disclosure",
    "Analysts downgrade Nvidia as recall costs mount",
    "Nvidia suspends shipments to key cloud customers amid recall",
]
BURST_SOCIAL = [
    "$NVDA recall is a disaster, getting out now",
    "$NVDA crashing, guidance cut is brutal",
    "Dumped all my $NVDA, this recall will take quarters to fix",
    "$NVDA puts were the trade of the year, stock is collapsing",
    "Never seen $NVDA sell off this hard, awful news",
    "$NVDA lawsuit plus recall, bearish for months",
]
