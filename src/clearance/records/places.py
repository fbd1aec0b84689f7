"""Which California county an agency or a court sits in, and whether it is federal.

A RAP sheet names the agency of each event, not its county: `CASC SAN FRANCISCO` (superior
court), `CAMC HAYWARD` (municipal court), `CASO MARTINEZ` (sheriff), `CAPD CONCORD` (police).
Proposition 64 relief is asked of the Superior Court of the county where the conviction was
entered, so the reader has to turn the place after the agency code into a county. The table
below holds the 58 counties and the cities and court towns of each; a place that is not in it,
or that a spelling mistake leaves doubtful, gives no county (and the reader says so) rather than
a guess.

Federal entries (a U.S. District Court, a U.S. agency) get no county at all: state relief cannot
reach a federal conviction, so they are marked `FEDERAL` and kept for the federal screen.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

#: The county value of federal entries: never a California county, so never decided as one.
FEDERAL = "FEDERAL"

#: Cities, towns and court locations of each county (upper case). The county's own name is
#: always a place of that county as well.
_PLACES: dict[str, str] = {
    "ALAMEDA": "ALAMEDA|OAKLAND|BERKELEY|HAYWARD|FREMONT|SAN LEANDRO|PLEASANTON|LIVERMORE|"
    "DUBLIN|NEWARK|UNION CITY|EMERYVILLE|ALBANY|PIEDMONT|CASTRO VALLEY|SAN LORENZO",
    "ALPINE": "MARKLEEVILLE",
    "AMADOR": "JACKSON|IONE|SUTTER CREEK|PLYMOUTH",
    "BUTTE": "OROVILLE|CHICO|PARADISE|GRIDLEY|BIGGS",
    "CALAVERAS": "SAN ANDREAS|ANGELS CAMP",
    "COLUSA": "WILLIAMS",
    "CONTRA COSTA": "MARTINEZ|RICHMOND|CONCORD|WALNUT CREEK|PITTSBURG|ANTIOCH|BRENTWOOD|"
    "DANVILLE|SAN RAMON|PLEASANT HILL|EL CERRITO|SAN PABLO|HERCULES|PINOLE|OAKLEY|LAFAYETTE|"
    "ORINDA|MORAGA|CLAYTON|DELTA",
    "DEL NORTE": "CRESCENT CITY",
    "EL DORADO": "PLACERVILLE|SOUTH LAKE TAHOE|CAMERON PARK",
    "FRESNO": "CLOVIS|SANGER|SELMA|REEDLEY|KERMAN|COALINGA|FIREBAUGH|MENDOTA|KINGSBURG|"
    "PARLIER|FOWLER|ORANGE COVE|HURON|SAN JOAQUIN VALLEY",
    "GLENN": "WILLOWS|ORLAND",
    "HUMBOLDT": "EUREKA|ARCATA|FORTUNA|GARBERVILLE|MCKINLEYVILLE",
    "IMPERIAL": "EL CENTRO|BRAWLEY|CALEXICO|IMPERIAL|HOLTVILLE|CALIPATRIA|WESTMORLAND",
    "INYO": "INDEPENDENCE|BISHOP|LONE PINE",
    "KERN": "BAKERSFIELD|DELANO|RIDGECREST|TEHACHAPI|SHAFTER|WASCO|TAFT|ARVIN|LAMONT|MOJAVE|"
    "LAKE ISABELLA|CALIFORNIA CITY|MCFARLAND",
    "KINGS": "HANFORD|LEMOORE|CORCORAN|AVENAL",
    "LAKE": "LAKEPORT|CLEARLAKE",
    "LASSEN": "SUSANVILLE",
    "LOS ANGELES": "LOS ANGELES METRO|LONG BEACH|PASADENA|GLENDALE|BURBANK|SANTA MONICA|"
    "INGLEWOOD|TORRANCE|COMPTON|DOWNEY|NORWALK|POMONA|WEST COVINA|EL MONTE|ALHAMBRA|"
    "WHITTIER|LANCASTER|PALMDALE|SANTA CLARITA|VAN NUYS|SAN FERNANDO|CHATSWORTH|"
    "BEVERLY HILLS|CULVER CITY|HOLLYWOOD|WEST LOS ANGELES|EAST LOS ANGELES|AIRPORT|"
    "BELLFLOWER|LAKEWOOD|CERRITOS|SOUTH GATE|HUNTINGTON PARK|BELL|BELL GARDENS|"
    "MONTEBELLO|PICO RIVERA|AZUSA|COVINA|GLENDORA|CLAREMONT|LA VERNE|SAN DIMAS|"
    "DIAMOND BAR|WALNUT|ARCADIA|MONROVIA|DUARTE|SAN GABRIEL|TEMPLE CITY|ROSEMEAD|"
    "MONTEREY PARK|SOUTH PASADENA|SAN MARINO|SIERRA MADRE|REDONDO BEACH|HERMOSA BEACH|"
    "MANHATTAN BEACH|EL SEGUNDO|HAWTHORNE|GARDENA|CARSON|SAN PEDRO|LOMITA|"
    "PALOS VERDES ESTATES|RANCHO PALOS VERDES|LYNWOOD|PARAMOUNT|SIGNAL HILL|MALIBU|"
    "WEST HOLLYWOOD|CALABASAS|AGOURA HILLS|LA PUENTE|BALDWIN PARK|IRWINDALE|INDUSTRY|"
    "CUDAHY|MAYWOOD|VERNON|COMMERCE|LA MIRADA|SANTA FE SPRINGS|ARTESIA|HAWAIIAN GARDENS|"
    "LA HABRA HEIGHTS|SYLMAR|EAST LA|LA METRO|LAX|ANTELOPE VALLEY|RIO HONDO|CITRUS|"
    "SOUTHEAST|ALHAMBRA|LA",
    "MADERA": "CHOWCHILLA",
    "MARIN": "SAN RAFAEL|NOVATO|MILL VALLEY|SAUSALITO|LARKSPUR|CORTE MADERA|TIBURON|"
    "SAN ANSELMO|FAIRFAX",
    "MARIPOSA": "",
    "MENDOCINO": "UKIAH|FORT BRAGG|WILLITS|POINT ARENA",
    "MERCED": "LOS BANOS|ATWATER|LIVINGSTON|DOS PALOS|GUSTINE",
    "MODOC": "ALTURAS",
    "MONO": "BRIDGEPORT|MAMMOTH LAKES",
    "MONTEREY": "SALINAS|SEASIDE|MARINA|PACIFIC GROVE|CARMEL|KING CITY|SOLEDAD|GONZALES|"
    "GREENFIELD|CASTROVILLE",
    "NAPA": "ST HELENA|CALISTOGA|AMERICAN CANYON|YOUNTVILLE",
    "NEVADA": "NEVADA CITY|GRASS VALLEY|TRUCKEE",
    "ORANGE": "SANTA ANA|ANAHEIM|IRVINE|HUNTINGTON BEACH|FULLERTON|COSTA MESA|GARDEN GROVE|"
    "WESTMINSTER|NEWPORT BEACH|LAGUNA BEACH|LAGUNA NIGUEL|LAGUNA HILLS|MISSION VIEJO|"
    "SAN CLEMENTE|SAN JUAN CAPISTRANO|DANA POINT|TUSTIN|BUENA PARK|LA HABRA|BREA|"
    "PLACENTIA|YORBA LINDA|CYPRESS|LOS ALAMITOS|SEAL BEACH|FOUNTAIN VALLEY|STANTON|"
    "LAKE FOREST|RANCHO SANTA MARGARITA|ALISO VIEJO|HARBOR|NORTH JUSTICE CENTER|"
    "WEST JUSTICE CENTER|CENTRAL JUSTICE CENTER|LAMOREAUX JUSTICE CENTER",
    "PLACER": "AUBURN|ROSEVILLE|ROCKLIN|LINCOLN|TAHOE CITY|COLFAX|LOOMIS",
    "PLUMAS": "QUINCY|PORTOLA",
    "RIVERSIDE": "INDIO|PALM SPRINGS|BANNING|HEMET|MURRIETA|TEMECULA|CORONA|MORENO VALLEY|"
    "PERRIS|BLYTHE|CATHEDRAL CITY|PALM DESERT|LA QUINTA|COACHELLA|DESERT HOT SPRINGS|"
    "LAKE ELSINORE|NORCO|SAN JACINTO|BEAUMONT|MENIFEE|JURUPA VALLEY|EASTVALE",
    "SACRAMENTO": "ELK GROVE|FOLSOM|CITRUS HEIGHTS|RANCHO CORDOVA|GALT|ISLETON|CARMICHAEL|"
    "NORTH HIGHLANDS|FAIR OAKS|ORANGEVALE",
    "SAN BENITO": "HOLLISTER|SAN JUAN BAUTISTA",
    "SAN BERNARDINO": "ONTARIO|RANCHO CUCAMONGA|FONTANA|RIALTO|COLTON|REDLANDS|"
    "VICTORVILLE|HESPERIA|APPLE VALLEY|ADELANTO|BARSTOW|NEEDLES|BIG BEAR LAKE|CHINO|"
    "CHINO HILLS|UPLAND|MONTCLAIR|YUCAIPA|HIGHLAND|LOMA LINDA|JOSHUA TREE|TWENTYNINE PALMS|"
    "YUCCA VALLEY|GRAND TERRACE|FONTANA",
    "SAN DIEGO": "EL CAJON|CHULA VISTA|VISTA|OCEANSIDE|ESCONDIDO|CARLSBAD|SAN MARCOS|"
    "ENCINITAS|LA MESA|SANTEE|NATIONAL CITY|IMPERIAL BEACH|CORONADO|POWAY|LEMON GROVE|"
    "DEL MAR|SOLANA BEACH|RAMONA|EAST COUNTY|NORTH COUNTY|SOUTH BAY|KEARNY MESA",
    "SAN FRANCISCO": "",
    "SAN JOAQUIN": "STOCKTON|LODI|TRACY|MANTECA|LATHROP|RIPON|ESCALON",
    "SAN LUIS OBISPO": "PASO ROBLES|ATASCADERO|ARROYO GRANDE|GROVER BEACH|MORRO BAY|"
    "PISMO BEACH|GROVER CITY",
    "SAN MATEO": "REDWOOD CITY|DALY CITY|SOUTH SAN FRANCISCO|SAN BRUNO|BURLINGAME|"
    "MENLO PARK|FOSTER CITY|BELMONT|SAN CARLOS|MILLBRAE|PACIFICA|HALF MOON BAY|"
    "EAST PALO ALTO|ATHERTON|BRISBANE|COLMA",
    "SANTA BARBARA": "SANTA MARIA|LOMPOC|GOLETA|CARPINTERIA|SOLVANG|BUELLTON|GUADALUPE",
    "SANTA CLARA": "SAN JOSE|PALO ALTO|MOUNTAIN VIEW|SUNNYVALE|MORGAN HILL|GILROY|"
    "LOS GATOS|CAMPBELL|CUPERTINO|MILPITAS|SARATOGA|LOS ALTOS|SAN MARTIN|SANTA CLARA",
    "SANTA CRUZ": "WATSONVILLE|CAPITOLA|SCOTTS VALLEY",
    "SHASTA": "REDDING|ANDERSON|SHASTA LAKE|BURNEY",
    "SIERRA": "DOWNIEVILLE|LOYALTON",
    "SISKIYOU": "YREKA|MOUNT SHASTA|WEED|DUNSMUIR",
    "SOLANO": "FAIRFIELD|VALLEJO|VACAVILLE|BENICIA|DIXON|SUISUN CITY|RIO VISTA",
    "SONOMA": "SANTA ROSA|PETALUMA|ROHNERT PARK|SEBASTOPOL|HEALDSBURG|CLOVERDALE|WINDSOR|COTATI",
    "STANISLAUS": "MODESTO|TURLOCK|CERES|OAKDALE|RIVERBANK|PATTERSON|NEWMAN|WATERFORD|HUGHSON",
    "SUTTER": "YUBA CITY|LIVE OAK",
    "TEHAMA": "RED BLUFF|CORNING",
    "TRINITY": "WEAVERVILLE",
    "TULARE": "VISALIA|PORTERVILLE|TULARE|DINUBA|EXETER|LINDSAY|FARMERSVILLE|WOODLAKE",
    "TUOLUMNE": "SONORA",
    "VENTURA": "OXNARD|SIMI VALLEY|THOUSAND OAKS|CAMARILLO|SANTA PAULA|FILLMORE|"
    "MOORPARK|PORT HUENEME|OJAI|EAST VENTURA",
    "YOLO": "WOODLAND|DAVIS|WEST SACRAMENTO|WINTERS",
    "YUBA": "MARYSVILLE|WHEATLAND",
}

#: Abbreviations of place words on RAP sheets, written out before the look-up.
_WORD_ABBREVIATIONS = {
    "SN": "SAN",
    "STA": "SANTA",
    "S": "SOUTH",
    "N": "NORTH",
    "E": "EAST",
    "W": "WEST",
    "MT": "MOUNT",
    "SO": "SOUTH",
    "NO": "NORTH",
    "L": "LOS",
}

#: Words after the place that say what kind of office it is, not where.
_TRAILING_WORDS = ("CO", "COUNTY", "CNTY", "CTY", "METRO", "MAIN", "DIV", "BR", "BRANCH")

#: Federal agencies and courts as RAP sheets write them.
_FEDERAL_PATTERN = re.compile(
    r"^(?:US|U\s*S|USA)\b|^U\.\s*S\.|^UNITED STATES|^FEDERAL\b|^USDC|^USMS|^USBP|^USPP|"
    r"DISTRICT COURT(?! OF APPEAL)|\bDIST(?:RICT)? CT\b|\bFBI\b|\bDEA\b|\bATF\b|\bUSMS\b|"
    r"\bUSBP\b|\bBUREAU OF PRISONS\b|\bBORDER PATROL\b|\bIMMIGRATION\b|\bUS MARSHALS?\b|"
    r"\bHOMELAND\b|\bINS\b|\bICE\b|\bBOP\b"
)


@dataclass(frozen=True)
class Place:
    """What an agency text says about where: the county (None when unknown) and whether the
    agency is federal; `doubt` says why a county is missing or was read from a misspelling."""

    county: str | None
    federal: bool
    doubt: str | None = None


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for county, places in _PLACES.items():
        table[county] = county
        for place in filter(None, places.split("|")):
            # A county's name wins over a city of the same name elsewhere.
            table.setdefault(place, county)
    for county in _PLACES:
        table[county] = county
    return table


#: Digits a scan puts in place of letters, undone inside words that also hold letters
#: (`L05 ANGELES` is LOS ANGELES).
_LETTERS_FOR_DIGITS = str.maketrans("0158", "OISB")


def _words(text: str) -> list[str]:
    cleaned = re.sub(r"[^A-Z0-9 ]+", " ", text.upper().replace(".", ""))
    return [
        w.translate(_LETTERS_FOR_DIGITS) if re.search(r"[A-Z]", w) and re.search(r"[0-9]", w) else w
        for w in cleaned.split()
    ]


def is_federal(agency: str) -> bool:
    """True for a U.S. District Court or a federal agency."""
    text = re.sub(r"\s+", " ", agency.upper()).strip()
    return bool(_FEDERAL_PATTERN.search(text))


def place_of(agency: str | None) -> Place:
    """The county of an agency text such as `CASC SAN FRANCISCO CO` or `CAMC HAYWARD`.

    The agency code (`CASC`, `CAMC`, `CASO`, `CAPD`...) is dropped, and municipal court names
    glued to their town (`CASC MCSACRAMENTO`) are split. The longest run of leading words that
    names a known place wins; a near miss (`SAN PRANCISCU`) is accepted only when one known
    place is clearly closest, and `doubt` says so.
    """
    if not agency or not agency.strip():
        return Place(None, False, "no agency")
    if is_federal(agency):
        return Place(FEDERAL, True)
    words = _words(agency)
    if words and re.fullmatch(r"CA[A-Z]{2}|CA[0-9]{5,7}[A-Z0-9]{0,2}", words[0]):
        words = words[1:]
    if words and words[0].startswith("MC") and len(words[0]) > 4:
        words[0] = words[0][2:]
    words = [_WORD_ABBREVIATIONS.get(w, w) for w in words]
    table = _lookup()
    for end in range(len(words), 0, -1):
        candidate = " ".join(words[:end])
        if candidate in table:
            return Place(table[candidate], False)
    # A county named further on (`CASD SOCIAL SERV CCL-CRCB, LOS ANGELES`).
    joined = f" {' '.join(words)} "
    named = [c for c in _PLACES if f" {c} " in joined]
    if named:
        return Place(max(named, key=len), False)
    # Past the agency code, the place may be followed by an office word: try without them.
    trimmed = [w for w in words if w not in _TRAILING_WORDS]
    for end in range(len(trimmed), 0, -1):
        candidate = " ".join(trimmed[:end])
        if len(candidate) >= 4:
            close = difflib.get_close_matches(candidate, table.keys(), n=2, cutoff=0.8)
            if close and (
                len(close) == 1
                or difflib.SequenceMatcher(None, candidate, close[0]).ratio()
                - difflib.SequenceMatcher(None, candidate, close[1]).ratio()
                >= 0.1
                or table[close[0]] == table[close[1]]
            ):
                return Place(table[close[0]], False, f"place {candidate!r} read as {close[0]!r}")
    return Place(None, False, "place not recognised")
