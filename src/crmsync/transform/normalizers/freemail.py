"""Mailbox providers anyone can sign up to: their domain says nothing about a person's company.

Kept as data so it can grow without touching code. Lower case, registrable domains; the
global brands under any country's suffix (yahoo.com.mx, hotmail.ca, outlook.es); and the
names reserved for examples and tests (example.com, *.test), which belong to no company.
"""

from __future__ import annotations

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # Google, Microsoft, Yahoo, AOL, Apple
        "gmail.com", "googlemail.com",
        "outlook.com", "outlook.de", "outlook.fr", "hotmail.com", "hotmail.co.uk", "hotmail.de",
        "hotmail.fr", "hotmail.it", "hotmail.es", "live.com", "live.co.uk", "live.de", "live.fr",
        "msn.com", "passport.com",
        "yahoo.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr", "yahoo.es", "yahoo.it", "yahoo.ca",
        "yahoo.com.au", "yahoo.co.jp", "yahoo.co.in", "yahoo.com.br", "ymail.com", "rocketmail.com",
        "aol.com", "aim.com", "verizon.net",
        "icloud.com", "me.com", "mac.com",
        # Privacy-minded providers
        "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tutanota.de",
        "tuta.io", "tutamail.com", "posteo.de", "posteo.net", "mailbox.org", "hushmail.com",
        "fastmail.com", "fastmail.fm", "runbox.com", "startmail.com", "disroot.org",
        # Germany, Austria, Switzerland
        "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.com", "gmx.us", "web.de", "t-online.de",
        "freenet.de", "arcor.de", "bluewin.ch",
        # Russia and neighbours
        "mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru", "yandex.ru", "yandex.com",
        "yandex.by", "yandex.kz", "yandex.ua", "ya.ru", "rambler.ru", "ukr.net",
        # France, Italy, Spain, Benelux, Nordics, Poland, Czechia
        "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "libero.it", "virgilio.it",
        "tiscali.it", "alice.it", "terra.es", "telenet.be", "skynet.be", "ziggo.nl", "hetnet.nl",
        "home.nl", "online.no", "telia.com", "wp.pl", "o2.pl", "onet.pl", "interia.pl",
        "seznam.cz", "centrum.cz",
        # UK, Ireland
        "btinternet.com", "sky.com", "virginmedia.com", "talktalk.net", "ntlworld.com",
        "blueyonder.co.uk", "eircom.net",
        # Americas
        "comcast.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "charter.net",
        "earthlink.net", "juno.com", "optonline.net", "shaw.ca", "rogers.com", "sympatico.ca",
        "uol.com.br", "bol.com.br", "terra.com.br", "videotron.ca", "telus.net", "bell.net",
        "cogeco.ca", "frontier.com", "windstream.net", "mindspring.com", "roadrunner.com",
        "rr.com", "netzero.net", "prodigy.net.mx", "terra.com.mx", "ig.com.br", "fibertel.com.ar",
        # Asia, Oceania
        "qq.com", "163.com", "126.com", "yeah.net", "sina.com", "sohu.com", "aliyun.com",
        "naver.com", "hanmail.net", "daum.net", "rediffmail.com", "bigpond.com", "optusnet.com.au",
        "bigpond.net.au", "iinet.net.au", "tpg.com.au", "internode.on.net", "westnet.com.au",
        "xtra.co.nz", "paradise.net.nz", "clear.net.nz", "netvigator.com", "singnet.com.sg",
        "pacific.net.sg", "vsnl.net", "sify.com",
        # Other global webmail
        "zoho.com", "zohomail.com", "mail.com", "email.com", "usa.com", "inbox.com", "lycos.com",
        "rediff.com", "excite.com", "hey.com", "duck.com",
    }
)  # fmt: skip

# Providers whose mail goes under many countries' suffixes: hotmail.ca, yahoo.com.mx, live.nl.
FREE_MAIL_BRANDS: tuple[str, ...] = (
    "gmail", "googlemail", "hotmail", "outlook", "live", "msn", "windowslive", "yahoo", "ymail",
    "rocketmail", "aol", "gmx", "yandex", "icloud", "protonmail",
)  # fmt: skip
# A brand, then a suffix of one or two short labels (com, co.uk, com.mx): a company's own
# host under a brand's name has a longer label there (outlook.acme.com is not outlook mail).
FREE_MAIL_BRAND_PATTERN = rf"^(?:{'|'.join(FREE_MAIL_BRANDS)})\.(?:[a-z]{{2,3}}\.)?[a-z]{{2,3}}$"
# Reserved for documentation and tests (RFC 2606, RFC 6761): no company owns them.
RESERVED_DOMAIN_PATTERN = (
    r"(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost|local)$"
)
