"""Words for the benchmark's mail: per-language sentences, names, mail clients and charsets.

Each locale's sentences are chosen to fit the charsets that locale's clients use
(no euro sign in ISO-8859-1 text, JIS X 0208 kanji only in Shift_JIS), so the
generator exercises the legacy decoders instead of silently falling back to UTF-8.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_LOG = [
    "2025-03-03 10:15:02 ERROR [spooler] job 4411 failed: timeout after 30s",
    "2025-03-03 10:15:03 WARN  [auth] token refresh for user 1182 took 2411 ms",
    "Traceback (most recent call last):",
    '  File "/opt/app/worker.py", line 88, in run',
    "    result = client.fetch(batch, timeout=self.timeout)",
    "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.example.com', port=443)",
    "    at com.example.billing.InvoiceService.render(InvoiceService.java:212)",
    "Mar  3 10:16:44 host kernel: [81234.1234] usb 2-1: device descriptor read/64, error -71",
]
_FILES = [
    ("invoice-2025-03.pdf", "application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
    ("screenshot.png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("IMG_2041.JPG", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
    ("logs.zip", "application/zip", b"PK\x03\x04"),
    ("export.csv", "text/csv", b""),
]


@dataclass(frozen=True)
class Locale:
    code: str
    weight: int
    re: str
    encodings: tuple[tuple[str, str, int], ...]  # (charset, transfer encoding, weight)
    subjects: list[str]
    greetings: list[str]
    paragraphs: list[str]
    signoffs: list[str]
    signatures: list[str]
    first_names: list[str]
    last_names: list[str]
    domains: list[str]
    agents: list[str]
    files: list[tuple[str, str, bytes]]
    log_lines: list[str]

    def pick_encoding(self, rng: random.Random) -> tuple[str, str]:
        charset, cte, _ = rng.choices(self.encodings, weights=[w for *_, w in self.encodings])[0]
        return charset, cte


_OUTLOOK = "Microsoft Outlook 16.0"
_THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.7.1"

EN = Locale(
    code="en", weight=45, re="Re",
    encodings=(("utf-8", "quoted-printable", 35), ("utf-8", "8bit", 25), ("us-ascii", "7bit", 10),
               ("windows-1252", "quoted-printable", 20), ("utf-8", "base64", 10)),
    subjects=["Printer on floor 2 prints blank pages", "Cannot log in to the portal", "Invoice 2025-0311 is wrong",
              "VPN disconnects every few minutes", "Password reset link expired", "Request: new laptop for Sam",
              "Order #88123 never arrived", "Export to CSV fails with an error", "Question about our contract",
              "Outlook keeps asking for my password", "API returns 500 since this morning"],
    greetings=["Hello,", "Hi there,", "Good morning,", "Dear support team,", "Hi,"],
    paragraphs=[
        "Since this morning none of us can print. The printer shows ready, but every page comes out blank.",
        "I tried restarting the machine twice and clearing the browser cache, but nothing changed.",
        "The invoice lists 12 licences although we cancelled two of them in January. Could you correct it?",
        "We are on the Business plan, account number 100-2231. This is blocking our month-end close.",
        "The error message says \"Session expired\" even right after logging in. Screenshot attached.",
        "It happens on Windows 11 and on macOS, so I don't think it's the laptop.",
        "Could you also tell me whether the price change applies to existing contracts?",
        "Please call me back if that's easier; I'm at my desk until 4pm.",
        "Thanks for the quick reply. Unfortunately the workaround did not help, the problem is back.",
    ],
    signoffs=["Thanks,\n{name}", "Best regards,\n{name}", "Kind regards,\n{name}", "Cheers,\n{name}"],
    signatures=["-- \n{name}\nHead of IT | Northwind Ltd\nPhone {phone}", "Sent from my iPhone",
                "{name}\nOperations Manager\nContoso Ltd, 1 Main Street, Springfield\n\nThis e-mail may contain confidential information."],
    first_names=["Mia", "John", "Sarah", "Peter", "Emily", "David", "Olivia", "James"],
    last_names=["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Clarke"],
    domains=["northwind.example", "contoso.example", "gmail.example", "outlook.example"],
    agents=[_OUTLOOK, _THUNDERBIRD, "Apple Mail (2.3774.400.31)", "Roundcube Webmail/1.6.9"],
    files=_FILES, log_lines=_LOG,
)

FI = Locale(
    code="fi", weight=25, re="VS",
    encodings=(("iso-8859-1", "quoted-printable", 35), ("windows-1252", "quoted-printable", 20),
               ("windows-1252", "8bit", 10), ("utf-8", "quoted-printable", 20), ("utf-8", "base64", 15)),
    subjects=["Tulostin ei toimi", "Laskussa on virhe", "En pääse kirjautumaan järjestelmään",
              "Tilaus ei ole saapunut", "Salasanan vaihto ei onnistu", "Kysymys sopimuksesta"],
    greetings=["Hei,", "Moi,", "Hyvää päivää,", "Hei tuki,"],
    paragraphs=[
        "Toimiston tulostin tulostaa vain tyhjiä sivuja. Kokeilin jo käynnistää sen uudelleen.",
        "Laskussa on veloitettu kahdestatoista lisenssistä, vaikka irtisanoimme kaksi tammikuussa.",
        "Kirjautuminen päättyy virheilmoitukseen \"Istunto vanhentunut\" heti sisäänkirjautumisen jälkeen.",
        "Asiakasnumeromme on 100-2231. Asia on kiireellinen, koska kuukauden vaihde lähestyy.",
        "Voisitteko soittaa minulle, jos se on helpompaa? Olen tavoitettavissa klo 16 asti.",
        "Kiitos nopeasta vastauksesta. Valitettavasti ohje ei auttanut, vika toistuu yhä.",
    ],
    signoffs=["Ystävällisin terveisin,\n{name}", "Terveisin,\n{name}", "Kiittäen,\n{name}"],
    signatures=["-- \n{name}\nIT-päällikkö, Pohjolan Kone Oy\npuh. {phone}", "Lähetetty iPhonesta"],
    first_names=["Matti", "Päivi", "Jussi", "Sari", "Anna-Liisa", "Jyrki", "Tuula"],
    last_names=["Virtanen", "Mäkinen", "Nieminen", "Hämäläinen", "Järvinen", "Könönen"],
    domains=["pohjolankone.example", "kunta.example", "suomi24.example"],
    agents=[_OUTLOOK, _THUNDERBIRD, "Zimbra 9.0"],
    files=[*_FILES, ("kuvakaappaus ääni.png", "image/png", b"\x89PNG\r\n\x1a\n")], log_lines=_LOG,
)

DE = Locale(
    code="de", weight=20, re="AW",
    encodings=(("iso-8859-1", "quoted-printable", 40), ("windows-1252", "quoted-printable", 20),
               ("utf-8", "quoted-printable", 25), ("utf-8", "8bit", 15)),
    subjects=["Drucker druckt nur leere Seiten", "Rechnung fehlerhaft", "Anmeldung nicht möglich",
              "Bestellung nicht angekommen", "Frage zur Kündigung", "Störung seit heute früh"],
    greetings=["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo Support-Team,"],
    paragraphs=[
        "Seit heute früh druckt unser Drucker im zweiten Stock nur noch leere Seiten.",
        "Auf der Rechnung werden zwölf Lizenzen berechnet, obwohl wir zwei im Januar gekündigt haben.",
        "Nach der Anmeldung erscheint sofort die Meldung \"Sitzung abgelaufen\". Ein Screenshot hängt an.",
        "Unsere Kundennummer ist 100-2231. Bitte um eine schnelle Rückmeldung, es eilt.",
        "Vielen Dank für die schnelle Antwort. Leider hat die Lösung nicht geholfen, der Fehler ist zurück.",
        "Ich habe den Rechner bereits zweimal neu gestartet und den Browser-Cache gelöscht.",
    ],
    signoffs=["Mit freundlichen Grüßen\n{name}", "Viele Grüße\n{name}", "Beste Grüße\n{name}"],
    signatures=["-- \n{name}\nLeiter IT | Müller & Söhne GmbH\nTel. {phone}\nGeschäftsführer: Jürgen Müller",
                "Von meinem iPhone gesendet"],
    first_names=["Jürgen", "Anna", "Björn", "Käthe", "Lukas", "Sören"],
    last_names=["Müller", "Schäfer", "Weiß", "Groß", "Köhler", "Bäcker"],
    domains=["mueller-soehne.example", "web.example", "gmx.example"],
    agents=[_OUTLOOK, _THUNDERBIRD, "Open-Xchange Mailer v7.10.6"],
    files=[*_FILES, ("Rechnung März.pdf", "application/pdf", b"%PDF-1.4\n")], log_lines=_LOG,
)

JA = Locale(
    code="ja", weight=10, re="Re",
    encodings=(("shift_jis", "base64", 60), ("utf-8", "base64", 30), ("shift_jis", "8bit", 10)),
    subjects=["プリンターが印刷できません", "請求書の金額について", "ログインできません", "注文した商品が届きません"],
    greetings=["お世話になっております。", "サポートご担当者様", "いつもお世話になっております。"],
    paragraphs=[
        "今朝から二階のプリンターで白紙しか印刷されません。再起動も試しましたが改善しません。",
        "請求書に十二件のライセンスが記載されていますが、一月に二件解約しております。",
        "ログイン直後に「セッションの有効期限が切れました」と表示されます。画面の写真を添付します。",
        "お客様番号は100-2231です。月末の締め処理に影響するため、至急ご確認をお願いいたします。",
        "早速のご回答ありがとうございます。残念ながら、ご提示の方法では解決しませんでした。",
    ],
    signoffs=["よろしくお願いいたします。\n{name}", "以上、よろしくお願い申し上げます。\n{name}"],
    signatures=["-- \n{name}\n株式会社サンプル 情報システム部\n電話 {phone}"],
    first_names=["太郎", "花子", "健一", "美咲"],
    last_names=["山田", "佐藤", "鈴木", "高橋"],
    domains=["sample.example.jp", "docomo.example.ne.jp"],
    agents=[_OUTLOOK, "Becky! ver. 2.81.05", _THUNDERBIRD],
    files=[*_FILES, ("請求書.pdf", "application/pdf", b"%PDF-1.5\n")], log_lines=_LOG,
)

LOCALES = [EN, FI, DE, JA]


def quote_header(loc: Locale, rng: random.Random, date: str, support: str) -> str:
    """The line (or Outlook block) a mail client puts above quoted history, in the sender's language."""
    if rng.random() < 0.25:
        labels = {"fi": ("Lähettäjä", "Lähetetty", "Vastaanottaja", "Aihe"),
                  "de": ("Von", "Gesendet", "An", "Betreff")}.get(loc.code, ("From", "Sent", "To", "Subject"))
        return (f"-----Original Message-----\n{labels[0]}: Support <{support}>\n{labels[1]}: {date}\n"
                f"{labels[2]}: customer\n{labels[3]}: ticket")
    return {
        "fi": f"{date} Support <{support}> kirjoitti:",
        "de": f"Am {date} schrieb Support <{support}>:",
        "ja": f"{date} Support <{support}>:",
    }.get(loc.code, f"On {date}, Support <{support}> wrote:")
