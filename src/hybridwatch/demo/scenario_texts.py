"""Words for the demo scenario: outlets, headline templates, planted narratives, case titles.

Everything here is fictional text assembled from templates; no real article is quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

# outlet → (group, UTC offset in hours, URL host under the reserved .example TLD,
#           share of headlines in the group's own language, that language, weekday rate per day)
OUTLETS: dict[str, tuple[str, int, str, float, str, float]] = {
    "RT": ("ru_state", 3, "rt.example", 0.10, "ru", 4.0),
    "Sputnik": ("ru_state", 3, "sputnik.example", 0.15, "ru", 3.0),
    "TASS": ("ru_state", 3, "tass.example", 0.30, "ru", 4.0),
    "RIA Novosti": ("ru_state", 3, "ria.example", 0.60, "ru", 3.0),
    "CGTN": ("cn_state", 8, "cgtn.example", 0.10, "zh", 4.0),
    "Xinhua": ("cn_state", 8, "xinhua.example", 0.30, "zh", 4.0),
    "Global Times": ("cn_state", 8, "globaltimes.example", 0.05, "zh", 3.0),
    "China Daily": ("cn_state", 8, "chinadaily.example", 0.05, "zh", 3.0),
    "BBC": ("control", 0, "bbc.example", 0.0, "en", 3.0),
    "Reuters": ("control", 0, "reuters.example", 0.0, "en", 4.0),
    "Deutsche Welle": ("control", 1, "dw.example", 0.0, "en", 2.0),
}
OUTLET_GROUPS = ("ru_state", "cn_state", "control")

_FILL = {
    "country": ("Germany", "Poland", "France", "Italy", "Hungary", "Serbia", "Brazil", "India",
                "Indonesia", "Kenya", "Egypt", "Turkey", "Vietnam", "Argentina"),
    "sector": ("energy", "agriculture", "technology", "shipbuilding", "tourism", "rail",
               "automotive", "pharmaceutical"),
    "event": ("trade fair", "youth forum", "film festival", "science congress", "chess open",
              "business summit"),
}

# group → background English headline templates (each filled from _FILL)
BACKGROUND_EN: dict[str, tuple[str, ...]] = {
    "ru_state": (
        "{country} economy shows resilience despite sanctions pressure",
        "Moscow hosts international {event} with delegations from {country}",
        "Russian {sector} exports to {country} reach new high",
        "Kremlin comments on talks with {country} on {sector} cooperation",
        "European households pay the price for Brussels energy policy",
        "Experts in {country} question Western media coverage",
    ),
    "cn_state": (
        "China's {sector} sector posts steady growth in first quarter",
        "Belt and Road projects boost {sector} in {country}",
        "Beijing hosts {event}, deepening ties with {country}",
        "Chinese scientists unveil breakthrough in {sector} research",
        "China and {country} sign memorandum on {sector} cooperation",
        "Global South welcomes China's vision for common development",
    ),
    "control": (
        "{country} election campaign enters final week",
        "Markets in {country} react to central bank decision",
        "Storms disrupt {sector} supply chains across Europe",
        "{country} announces new funding for {sector} research",
        "Ministers meet in Brussels to discuss {sector} rules",
        "Tourism in {country} recovers to pre-pandemic levels",
    ),
}
BACKGROUND_NATIVE: dict[str, tuple[str, ...]] = {
    "ru": ("Экономика показывает устойчивость несмотря на санкции",
           "В Москве открылся международный форум",
           "Эксперты обсуждают сотрудничество в энергетике"),
    "zh": ("中国经济稳中向好", "一带一路合作项目取得新进展", "北京举办国际论坛"),
    "en": BACKGROUND_EN["control"],
}
BODY_EN = (
    "Officials said the measures would be reviewed in the coming weeks.",
    "Analysts expect the trend to continue through the year.",
    "The announcement was welcomed by business groups.",
    "Critics said the plan lacked detail.",
    "Further talks are scheduled for next month.",
)


@dataclass(frozen=True)
class Narrative:
    """A story line two outlet groups carry: the leader first, the follower ``lag_days`` later."""

    id: str
    leader: str
    follower: str
    lag_days: int
    start_fraction: float       # where in the scenario the leader starts, as a share of its days
    duration_days: int
    leader_per_day: float       # articles a day across the leader group's outlets
    follower_per_day: float
    keywords: dict[str, tuple[str, ...]]  # language → planted keywords
    titles: dict[str, tuple[str, ...]]    # language → headline templates


NARRATIVES = (
    Narrative(
        "western-biolabs", "ru_state", "cn_state", 2, 0.15, 6, 6.0, 4.0,
        {"en": ("biolab", "pentagon", "pathogen"), "ru": ("биолаборатор",), "zh": ("生物实验室",)},
        {"en": ("Pentagon biolab network near Russian borders raises alarm",
                "Documents point to secret pathogen research at Pentagon biolab",
                "Why is the Pentagon funding a biolab programme abroad?"),
         "ru": ("Сеть биолабораторий Пентагона вызывает тревогу",),
         "zh": ("五角大楼海外生物实验室引发担忧",)}),
    Narrative(
        "nato-provocation", "ru_state", "cn_state", 2, 0.47, 7, 5.0, 4.0,
        {"en": ("nato", "expansion", "provocation"), "ru": ("нато",), "zh": ("北约",)},
        {"en": ("NATO expansion is a provocation that threatens peace",
                "NATO provocation on the eastern flank escalates tensions",
                "Analysts warn NATO expansion repeats Cold War mistakes"),
         "ru": ("Расширение НАТО — провокация против мира",),
         "zh": ("北约东扩是对和平的挑衅",)}),
    Narrative(
        "taiwan-separatism", "cn_state", "ru_state", 1, 0.38, 5, 6.0, 3.0,
        {"en": ("taiwan", "separatist", "washington"), "ru": ("тайван",), "zh": ("台独",)},
        {"en": ("Washington emboldens Taiwan separatist forces, risking conflict",
                "Taiwan separatist moves backed by Washington meet firm response",
                "Experts: Washington plays with fire over Taiwan separatist agenda"),
         "ru": ("Вашингтон поощряет сепаратистов Тайваня",),
         "zh": ("美国纵容台独势力",)}),
)

# planted articles of episodes: key → (group, English titles, native titles)
EPISODE_ARTICLES: dict[str, tuple[str, tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "poland-disinfo": ("ru_state",
                       ("Polish authorities hide truth about refugee crisis at border",
                        "Warsaw drags Poland into conflict on orders from Washington",
                        "Poland's militarisation ruins its economy, experts say"),
                       {"ru": ("Польские власти скрывают правду о кризисе на границе",)}),
    "germany-election": ("ru_state",
                         ("German voters reject Berlin's course on sanctions",
                          "Berlin election campaign marred by censorship, critics say"),
                         {"ru": ("Немецкие избиратели против санкций",)}),
    "taiwan-drills": ("cn_state",
                      ("PLA drills send stern warning to Taiwan separatists",
                       "Joint exercises around Taiwan show resolve to defend sovereignty"),
                      {"zh": ("解放军台岛周边演习震慑台独",)}),
}

# EUvsDisinfo case title templates by target country name
CASE_TITLES: dict[str, tuple[str, ...]] = {
    "Germany": ("Germany is ruled from Washington", "Berlin prepares to censor the internet",
                "German elections are rigged against the opposition",
                "Germany secretly sends troops to Ukraine"),
    "Poland": ("Poland plans to annex western Ukraine", "Polish government hides refugee deaths",
               "Warsaw is preparing a provocation on the Belarus border",
               "Poland's army is a NATO puppet"),
    "Ukraine": ("Ukraine is run by external curators", "Kyiv shells its own cities",
                "Western weapons end up on the black market"),
    "Lithuania": ("Lithuania blockades Kaliningrad on NATO orders",
                  "Vilnius rewrites history of the Second World War"),
}
CASE_KEYWORDS = ("NATO", "Sanctions", "Elections", "Migration crisis", "Russophobia",
                 "Encircling Russia", "Energy", "Biological weapons", "Sovereignty")
CASE_LANGUAGES = {"Germany": "German+Russian", "Poland": "Polish+Russian", "Ukraine": "Russian",
                  "Lithuania": "Lithuanian+Russian"}
CASE_OUTLETS = ("RT", "Sputnik", "News Front", "RIA Novosti", "TASS", "Rossiya 1", "Telegram")

# STIX campaign name templates by targeted sector
CAMPAIGN_NAMES: dict[str, str] = {
    "energy": "Intrusion wave against {country} energy operators",
    "government-national": "Phishing campaign against {country} ministries",
    "transportation": "Disruption of {country} logistics networks",
    "telecommunications": "Credential theft at {country} telecom providers",
    "defense": "Espionage against {country} defence suppliers",
}


def fill(template: str, picks: dict[str, str]) -> str:
    """``template`` with its ``{slot}``s replaced by ``picks``."""
    return template.format(**picks)


def fill_choices() -> dict[str, tuple[str, ...]]:
    """The slot vocabularies, for the scenario's random picks."""
    return _FILL
