"""The word lists the seeded data is drawn from, one profile per business.

Teelixir sells mushroom extracts and tonic herbs, Elevate Wholesale sells
superfoods in bulk, Buy Organics Online sells organic groceries and teas, and
Red Hill Fresh sells fresh produce. Brand names are invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Base:
    """A thing the business sells before size and line: 'Reishi Mushroom'."""

    name: str
    abbr: str
    group: str
    price: float  # sell price of the smallest size


@dataclass(frozen=True, slots=True)
class Size:
    label: str
    code: str
    unit: str
    factor: float  # price multiplier on the base price
    weight: float  # kilograms
    groups: tuple[str, ...] = ()  # product groups this size is sold in; () means all


@dataclass(frozen=True, slots=True)
class Profile:
    prefix: str
    lines: tuple[tuple[str, str], ...]  # (description prefix, code letter)
    bases: tuple[Base, ...]
    sizes: tuple[Size, ...]
    warehouses: tuple[tuple[str, str, str], ...]  # (code, name, city)
    wholesale: bool  # customers are shops, not people
    currencies: tuple[tuple[str, int], ...]  # (code, weight)
    order_qty: tuple[int, int]


_MUSHROOMS = "Medicinal Mushrooms"
_TONICS = "Tonic Herbs"
_BLENDS = "Elixir Blends"
_HERBS = (_MUSHROOMS, _TONICS)

TEELIXIR = Profile(
    prefix="TLX",
    lines=(("", "S"), ("Wild-Harvested ", "W"), ("Dual-Extracted ", "D")),
    bases=(
        Base("Reishi Mushroom", "RSH", _MUSHROOMS, 39.95),
        Base("Lion's Mane Mushroom", "LMN", _MUSHROOMS, 44.95),
        Base("Chaga Mushroom", "CHG", _MUSHROOMS, 42.95),
        Base("Cordyceps Mushroom", "CRD", _MUSHROOMS, 49.95),
        Base("Tremella Mushroom", "TRM", _MUSHROOMS, 39.95),
        Base("Turkey Tail Mushroom", "TTL", _MUSHROOMS, 36.95),
        Base("Shiitake Mushroom", "SHT", _MUSHROOMS, 29.95),
        Base("Maitake Mushroom", "MTK", _MUSHROOMS, 34.95),
        Base("Pine Pollen", "PPL", _TONICS, 32.95),
        Base("Schisandra Berry", "SCH", _TONICS, 31.95),
        Base("Goji Berry", "GOJ", _TONICS, 19.95),
        Base("He Shou Wu", "HSW", _TONICS, 38.95),
        Base("Astragalus Root", "AST", _TONICS, 27.95),
        Base("Mushroom Coffee Blend", "MCB", _BLENDS, 29.95),
        Base("Mushroom Hot Chocolate", "MHC", _BLENDS, 27.95),
        Base("Beauty Elixir", "BEL", _BLENDS, 44.95),
        Base("Immunity Elixir", "IME", _BLENDS, 42.95),
    ),
    sizes=(
        Size("Extract Powder 50g", "P050", "EA", 1.0, 0.05),
        Size("Extract Powder 100g", "P100", "EA", 1.8, 0.1),
        Size("Extract Powder 250g", "P250", "EA", 3.9, 0.25),
        Size("Extract Powder 1kg", "P1KG", "EA", 13.5, 1.0),
        Size("Capsules 60", "C060", "EA", 0.9, 0.06, _HERBS),
        Size("Capsules 120", "C120", "EA", 1.6, 0.11, _HERBS),
        Size("Tincture 50ml", "T050", "EA", 0.95, 0.09, _HERBS),
        Size("Sachets 10 x 5g", "S010", "EA", 0.7, 0.05),
        Size("Gift Tin 100g", "G100", "EA", 2.1, 0.2),
        Size("Refill Pouch 500g", "R500", "EA", 7.2, 0.5),
    ),
    warehouses=(
        ("MEL", "Melbourne Distribution Centre", "Melbourne"),
        ("SYD", "Sydney 3PL", "Sydney"),
        ("BNE", "Brisbane 3PL", "Brisbane"),
        ("AKL", "Auckland Fulfilment", "Auckland"),
    ),
    wholesale=True,
    currencies=(("AUD", 80), ("NZD", 12), ("USD", 8)),
    order_qty=(1, 24),
)

_SUPERFOODS = "Superfood Powders"
_PROTEINS = "Plant Proteins"
_PANTRY = "Bulk Pantry"

ELEVATE = Profile(
    prefix="ELV",
    lines=(("Organic ", "O"), ("Raw ", "R"), ("Premium ", "P")),
    bases=(
        Base("Cacao Powder", "CAC", _SUPERFOODS, 24.5),
        Base("Maca Powder", "MAC", _SUPERFOODS, 22.0),
        Base("Spirulina Powder", "SPI", _SUPERFOODS, 31.0),
        Base("Chlorella Tablets", "CHL", _SUPERFOODS, 35.0),
        Base("Matcha Green Tea", "MAT", _SUPERFOODS, 58.0),
        Base("Moringa Leaf Powder", "MOR", _SUPERFOODS, 26.0),
        Base("Turmeric Root Powder", "TUR", _SUPERFOODS, 18.5),
        Base("Beetroot Powder", "BEE", _SUPERFOODS, 21.0),
        Base("Acai Berry Powder", "ACA", _SUPERFOODS, 64.0),
        Base("Lion's Mane Powder", "LMP", _SUPERFOODS, 72.0),
        Base("Hemp Protein", "HEM", _PROTEINS, 27.0),
        Base("Pea Protein Isolate", "PEA", _PROTEINS, 25.0),
        Base("Brown Rice Protein", "BRP", _PROTEINS, 26.5),
        Base("Coconut Sugar", "COS", _PANTRY, 9.5),
        Base("Cacao Nibs", "CNB", _PANTRY, 23.0),
        Base("Chia Seeds", "CHI", _PANTRY, 11.0),
        Base("Goji Berries", "GOB", _PANTRY, 28.0),
    ),
    sizes=(
        Size("1kg", "1KG", "KG", 1.0, 1.0),
        Size("5kg Bag", "5KG", "BAG", 4.6, 5.0),
        Size("10kg Bulk Sack", "10K", "SACK", 8.8, 10.0),
        Size("Carton 12 x 250g", "C12", "CTN", 3.4, 3.0),
        Size("Carton 6 x 500g", "C06", "CTN", 3.2, 3.0),
        Size("25kg Pallet Sack", "25K", "SACK", 20.5, 25.0),
    ),
    warehouses=(
        ("DAN", "Dandenong Warehouse", "Dandenong"),
        ("SYD", "Sydney Cross-Dock", "Sydney"),
        ("PER", "Perth Depot", "Perth"),
        ("ADL", "Adelaide Depot", "Adelaide"),
    ),
    wholesale=True,
    currencies=(("AUD", 100),),
    order_qty=(1, 40),
)

_TEAS = "Organic Teas"
_GROCERY = "Organic Grocery"
_CHILLED = "Chilled & Drinks"

BUY_ORGANICS = Profile(
    prefix="BOO",
    lines=(
        ("Wholesome Earth ", "WE"),
        ("Pure Valley ", "PV"),
        ("Green Harvest ", "GH"),
        ("Native Grove ", "NG"),
    ),
    bases=(
        Base("Organic Rolled Oats", "OAT", _GROCERY, 6.95),
        Base("Organic White Quinoa", "QUI", _GROCERY, 9.95),
        Base("Almond Butter", "ALB", _GROCERY, 14.95),
        Base("Virgin Coconut Oil", "VCO", _GROCERY, 12.95),
        Base("Organic Chia Seeds", "CHI", _GROCERY, 8.95),
        Base("Raw Honey", "HON", _GROCERY, 15.95),
        Base("Maple Syrup", "MAP", _GROCERY, 16.95),
        Base("Tamari", "TAM", _GROCERY, 7.95),
        Base("Apple Cider Vinegar", "ACV", _GROCERY, 8.45),
        Base("Dark Chocolate 85%", "DCH", _GROCERY, 5.95),
        Base("Brown Rice Pasta", "BRP", _GROCERY, 4.95),
        Base("Extra Virgin Olive Oil", "EVO", _GROCERY, 18.95),
        Base("Hulled Tahini", "TAH", _GROCERY, 9.45),
        Base("Medjool Dates", "DAT", _GROCERY, 13.95),
        Base("Activated Almonds", "AAL", _GROCERY, 16.45),
        Base("Green Tea", "GRT", _TEAS, 6.45),
        Base("Chamomile Tea", "CHM", _TEAS, 6.45),
        Base("Peppermint Tea", "PEP", _TEAS, 5.95),
        Base("English Breakfast Tea", "EBT", _TEAS, 6.95),
        Base("Lemongrass & Ginger Tea", "LGT", _TEAS, 6.95),
        Base("Ginger Kombucha", "KOM", _CHILLED, 4.95),
        Base("Barista Oat Milk", "OMK", _CHILLED, 4.45),
        Base("Coconut Yoghurt", "CYG", _CHILLED, 7.95),
    ),
    sizes=(
        Size("250g", "250", "EA", 1.0, 0.25, (_GROCERY, _TEAS)),
        Size("500g", "500", "EA", 1.7, 0.5, (_GROCERY,)),
        Size("1kg", "1KG", "EA", 3.1, 1.0, (_GROCERY,)),
        Size("Value Pack 2kg", "VAL", "EA", 5.6, 2.0, (_GROCERY,)),
        Size("20 Tea Bags", "T20", "EA", 0.9, 0.04, (_TEAS,)),
        Size("50 Tea Bags", "T50", "EA", 2.0, 0.1, (_TEAS,)),
        Size("330ml", "330", "EA", 0.8, 0.35, (_CHILLED,)),
        Size("1L", "1L", "EA", 1.9, 1.05, (_CHILLED,)),
        Size("Carton 12 x 330ml", "C12", "CTN", 8.5, 4.2, (_CHILLED,)),
    ),
    warehouses=(
        ("BOO-MAIN", "Main Fulfilment Centre", "Melbourne"),
        ("BOO-SYD", "Sydney Fulfilment", "Sydney"),
        ("BOO-BNE", "Brisbane Fulfilment", "Brisbane"),
        ("BOO-RTN", "Returns Cage", "Melbourne"),
    ),
    wholesale=False,
    currencies=(("AUD", 100),),
    order_qty=(1, 6),
)

_FRUIT = "Fresh Fruit"
_VEG = "Fresh Vegetables"
_FARM = "Farm & Bakery"

RED_HILL_FRESH = Profile(
    prefix="RHF",
    lines=(("Local ", "L"), ("Organic ", "O"), ("Biodynamic ", "B"), ("Seconds ", "S")),
    bases=(
        Base("Pink Lady Apples", "APL", _FRUIT, 6.5),
        Base("Granny Smith Apples", "APG", _FRUIT, 5.9),
        Base("Bananas", "BAN", _FRUIT, 4.9),
        Base("Hass Avocados", "AVO", _FRUIT, 8.5),
        Base("Navel Oranges", "ORA", _FRUIT, 4.5),
        Base("Lemons", "LEM", _FRUIT, 6.0),
        Base("Strawberries", "STR", _FRUIT, 9.0),
        Base("Blueberries", "BLU", _FRUIT, 12.0),
        Base("Broccoli", "BRO", _VEG, 7.9),
        Base("Tuscan Kale", "KAL", _VEG, 9.5),
        Base("Baby Spinach", "SPN", _VEG, 14.0),
        Base("Dutch Carrots", "CAR", _VEG, 5.5),
        Base("Heirloom Tomatoes", "TOM", _VEG, 11.0),
        Base("Lebanese Cucumbers", "CUC", _VEG, 6.9),
        Base("Zucchini", "ZUC", _VEG, 7.5),
        Base("Sweet Potato", "SWP", _VEG, 5.9),
        Base("Dutch Cream Potatoes", "POT", _VEG, 4.9),
        Base("Butternut Pumpkin", "PUM", _VEG, 3.9),
        Base("Beetroot", "BET", _VEG, 5.5),
        Base("Swiss Brown Mushrooms", "MSH", _VEG, 15.0),
        Base("Mixed Salad Leaves", "SAL", _VEG, 18.0),
        Base("Free Range Eggs (Dozen)", "EGG", _FARM, 7.5),
        Base("Sourdough Loaf", "SDL", _FARM, 8.0),
    ),
    sizes=(
        Size("per kg", "KG", "KG", 1.0, 1.0, (_FRUIT, _VEG)),
        Size("500g", "500", "EA", 0.55, 0.5, (_FRUIT, _VEG)),
        Size("Box 5kg", "B5", "BOX", 4.5, 5.0, (_FRUIT, _VEG)),
        Size("Box 10kg", "B10", "BOX", 8.5, 10.0, (_FRUIT, _VEG)),
        Size("Each", "EA", "EA", 1.0, 0.7, (_FARM,)),
        Size("Pack of 6", "P6", "PK", 5.6, 4.2, (_FARM,)),
        Size("Crate of 12", "C12", "CRT", 10.8, 8.4, (_FARM,)),
    ),
    warehouses=(
        ("RHF-PACK", "Red Hill Packing Shed", "Red Hill"),
        ("RHF-COOL", "Mornington Cool Room", "Mornington"),
        ("RHF-VAN", "Delivery Vans", "Red Hill"),
        ("RHF-MKT", "Farmers Market Stall", "Red Hill"),
    ),
    wholesale=False,
    currencies=(("AUD", 100),),
    order_qty=(1, 10),
)

PROFILES: dict[str, Profile] = {
    "teelixir": TEELIXIR,
    "elevate": ELEVATE,
    "boo": BUY_ORGANICS,
    "rhf": RED_HILL_FRESH,
}


def _split(text: str) -> tuple[str, ...]:
    # "|"-separated so that multi-word names fit on few lines
    return tuple(text.split("|"))


FIRST_NAMES: tuple[str, ...] = _split(
    "Olivia|Noah|Charlotte|Oliver|Amelia|Jack|Isla|William|Mia|Leo|Ava|Lucas|Grace|"
    "Henry|Chloe|Thomas|Zoe|James|Ruby|Ethan|Sophie|Liam|Harper|Mason|Ella|Hamish|"
    "Matilda|Arjun|Priya|Wei|Mei|Kenji|Aisha|Mateo|Lucia|Tane|Aroha|Sione"
)

LAST_NAMES: tuple[str, ...] = _split(
    "Smith|Jones|Williams|Brown|Wilson|Taylor|Nguyen|Johnson|Martin|White|Anderson|"
    "Walker|Thompson|Harris|Lee|Ryan|Robinson|Kelly|King|Campbell|Patel|Singh|Chen|"
    "Wang|Murphy|O'Brien|Rossi|Papadopoulos|Tran|Kaur|Ngata|Fraser|Murray"
)

PLACES: tuple[str, ...] = _split(
    "Byron Bay|Fitzroy|Noosa|Bondi|Newtown|Fremantle|Daylesford|Mullumbimby|"
    "Paddington|Brunswick|Castlemaine|Margaret River|Hobart|Leederville|Glebe|"
    "Northcote|Ponsonby|Wanaka|Toowong|Subiaco|Manly|St Kilda|Kiama|Bowral|Torquay|"
    "Launceston|Mount Lawley"
)

SHOP_KINDS: tuple[str, ...] = _split(
    "Wholefoods|Health Foods|Organic Market|Pharmacy|Cafe|Naturopathics|Food Co-op|"
    "Grocer|Yoga Studio|Wellness Centre|Providore|Juice Bar"
)

EMAIL_DOMAINS: tuple[str, ...] = _split(
    "gmail.com|outlook.com|bigpond.com|icloud.com|yahoo.com.au|proton.me"
)
