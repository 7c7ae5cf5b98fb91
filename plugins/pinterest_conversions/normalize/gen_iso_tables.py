#!/usr/bin/env python3
"""Generates iso_tables_data.inc from Debian's iso-codes JSON (package `iso-codes`) plus the
hand-kept aliases below. Run from this folder:  python3 gen_iso_tables.py > iso_tables_data.inc
The output is committed; the build does not run this script."""
import json
import sys
import unicodedata

ISO = "/usr/share/iso-codes/json/"

# Currencies: ISO-4217 List One as shipped by iso-codes 4.15, minus withdrawn codes and the
# non-currency X codes (metals, bond units, SDR, testing, "no currency"), plus newer codes.
CURRENCY_DROP = {"HRK", "CUC", "ANG", "ZWL", "XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC",
                 "XBD", "XDR", "XSU", "XUA", "XTS", "XXX"}
CURRENCY_ADD = {"XCG", "ZWG"}

COUNTRY_ALIASES = {
    "us": ["america", "unitedstatesofamerica", "usofa"],
    "gb": ["uk", "greatbritain", "britain", "england", "scotland", "wales", "northernireland",
           "unitedkingdomofgreatbritain"],
    "nl": ["holland", "nederland"],
    "de": ["deutschland"], "es": ["espana"], "br": ["brasil"], "it": ["italia"],
    "at": ["osterreich"], "ch": ["schweiz", "suisse", "svizzera"], "se": ["sverige"],
    "no": ["norge"], "dk": ["danmark"], "fi": ["suomi"], "pl": ["polska"],
    "be": ["belgie", "belgique"], "cz": ["czechrepublic"], "ru": ["russia"],
    "kr": ["korea", "republicofkorea"], "ci": ["ivorycoast"], "tr": ["turkey"],
    "mk": ["macedonia"], "sz": ["swaziland"], "mm": ["burma"], "cv": ["capeverde"],
    "tl": ["easttimor"], "va": ["vatican", "vaticancity"], "ps": ["palestine"],
    "fm": ["micronesia"], "bn": ["brunei"], "ae": ["uae", "emirates"],
    "cd": ["drc", "drcongo", "congokinshasa", "democraticrepublicofcongo"],
    "cg": ["republicofcongo", "congobrazzaville"], "mo": ["macau"], "xk": ["kosovo", "xkx"],
    "vi": ["usvirginislands"], "la": ["laopdr"], "sx": ["sintmaarten"], "mf": ["saintmartin"],
    "fk": ["falklands"], "gm": ["gambia"], "bs": ["bahamas"],
}
AMBIGUOUS = {"virginislands"}  # British or U.S.: left unresolved rather than guessed
EXTRA_ALPHA2 = {"xk"}  # Kosovo: user-assigned, but in wide use


def fold(name):
    """The lookup key the C++ side builds: Latin letters folded to ASCII, '&' -> 'and',
    everything that is not a letter dropped, a leading 'the' dropped."""
    out = []
    for ch in name:
        if ch == "&":
            out.append("and")
            continue
        if ch in "ßẞ":
            out.append("ss")
            continue
        if ch in "Ææ":
            out.append("ae")
            continue
        if ch in "Þþ":
            out.append("th")
            continue
        if ch in "Øø":
            out.append("o")
            continue
        if ch in "Ðð":
            out.append("d")
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        if "a" <= base.lower() <= "z":
            out.append(base.lower())
        elif base.isalpha():
            raise SystemExit("unfoldable letter in " + name)
    k = "".join(out)
    if k.startswith("the") and len(k) > 3:
        k = k[3:]
    return k


def names_for(entry):
    out = []
    for f in ("name", "common_name", "official_name"):
        if f in entry:
            out.append(entry[f])
    more = []
    for n in out:
        base = n.split(" (")[0]
        if base != n:
            more.append(base)
        if ", " in base:
            a, b = base.split(", ", 1)
            more.append(b + " " + a)
            more.append(a)
    return out + more


def main():
    cur = {c["alpha_3"] for c in json.load(open(ISO + "iso_4217.json"))["4217"]}
    cur = sorted((cur - CURRENCY_DROP) | CURRENCY_ADD)

    countries = json.load(open(ISO + "iso_3166-1.json"))["3166-1"]
    table = {}

    def put(key, code, strong=True):
        if key in table and table[key] != code:
            if strong:
                raise SystemExit("conflict for %s: %s vs %s" % (key, table[key], code))
            return
        table[key] = code

    for c in countries:
        a2 = c["alpha_2"].lower()
        put(a2, a2)
        put(c["alpha_3"].lower(), a2)
    for a2 in EXTRA_ALPHA2:
        put(a2, a2)
    for a2, aliases in COUNTRY_ALIASES.items():
        for k in aliases:
            put(k, a2)
    # Full names first (a conflict there is an error), then derived forms, which never override:
    # a bare "Congo" or "Virgin Islands" taken from "Congo, The Democratic Republic of the" or
    # "Virgin Islands, U.S." must not shadow the country whose own name it is.
    for strong in (True, False):
        for c in countries:
            a2 = c["alpha_2"].lower()
            for n in names_for(c):
                own = n in (c["name"], c.get("common_name"), c.get("official_name"))
                if own != strong:
                    continue
                k = fold(n)
                put(k, a2, strong=strong)
                if k.startswith("saint"):
                    put("st" + k[5:], a2, strong=False)

    for k in AMBIGUOUS:
        table.pop(k, None)

    langs = sorted(x["alpha_2"] for x in json.load(open(ISO + "iso_639-2.json"))["639-2"]
                   if "alpha_2" in x)

    w = sys.stdout.write
    w("// Generated by gen_iso_tables.py from iso-codes 4.15 plus hand-kept aliases. Do not edit.\n")
    w("// clang-format off\n")
    w("static constexpr char kCurrencies[][4] = {\n")
    for i in range(0, len(cur), 12):
        w("    " + ", ".join('"%s"' % c for c in cur[i:i + 12]) + ",\n")
    w("};\n\n")
    w("static constexpr char kLanguages[][3] = {\n")
    for i in range(0, len(langs), 16):
        w("    " + ", ".join('"%s"' % c for c in langs[i:i + 16]) + ",\n")
    w("};\n\n")
    w("static constexpr KeyCode kCountries[] = {\n")
    for k in sorted(table):
        w('    {"%s", "%s"},\n' % (k, table[k]))
    w("};\n")
    w("// clang-format on\n")


main()
