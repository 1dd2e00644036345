"""Helpdesk text for the search benchmark: subjects, customer mails, agent replies and internal notes.

Made from sentence templates about a helpdesk's everyday topics (invoices, refunds, passwords,
printers, deliveries, VPN …) in English, Finnish, German, Swedish and a little French and Spanish,
with names, order numbers and error codes filled in, plus a sentence of filler drawn from a
Zipf-like vocabulary (a few hundred real words and a long tail of made-up ones), so the full-text
index sees what a real one does: a few very common words, a long tail of rare ones, and a token
per order number. The same seed gives the same text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

# Share of tickets per language (a Finnish helpdesk with international customers).
LANGUAGES = {"en": 0.55, "fi": 0.20, "de": 0.10, "sv": 0.08, "fr": 0.04, "es": 0.03}
TOPICS = ("invoice", "refund", "password", "printer", "delivery", "vpn", "account", "laptop")
# A word the bench searches for as "rare": the first mail of one ticket in 1,000 names it.
RARE_WORD = "flowmeter"

FIRST = ("Mia Anna Liisa Juha Mikko Sanna Aino Eero Ville Laura Jonas Lena Felix Sofia Lukas Emma Erik Karin "
         "Lars Ingrid Pierre Claire Lucía Javier Oliver Amelia Noah Grace Ahmed Fatima Yuki Priya Tomás Eva "
         "Paula Heikki Tuula Kari Riikka Petra").split()
LAST = ("Virtanen Korhonen Mäkinen Nieminen Laine Heikkinen Koskinen Järvinen Müller Schmidt Schneider Fischer "
        "Andersson Johansson Karlsson Nilsson Dubois Martin García López Smith Jones Brown Taylor Wilson Khan "
        "Tanaka Patel Santos Novak").split()
PRODUCTS = ("HP LaserJet M404", "Canon i-SENSYS", "Brother HL-L2350", "ThinkPad T14", "MacBook Air", "Dell Latitude 5440",
            "Cisco AnyConnect", "FortiClient", "Office 365", "Visma Netvisor", "SAP Concur", "Zebra ZD420")


@dataclass(frozen=True)
class Language:
    greet: tuple[str, ...]
    close: tuple[str, ...]
    subjects: dict[str, tuple[str, ...]]
    asks: dict[str, tuple[str, ...]]  # the customer's sentences per topic
    answers: dict[str, tuple[str, ...]]  # the agent's sentences per topic
    common: tuple[str, ...]  # the head of the Zipf vocabulary, most frequent first
    syllables: tuple[str, ...]  # the long tail is made of these


def _t(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split("|") if s.strip())


EN = Language(
    greet=_t("Hi,|Hello,|Dear support,|Good morning,|Hi there,"),
    close=_t("Thanks|Thank you|Best regards|Kind regards|Cheers"),
    subjects={
        "invoice": _t("Invoice {order} is wrong|Question about invoice {order}|Double charge on my invoice|Invoice not received"),
        "refund": _t("Refund for order {order}|Still waiting for my refund|Refund request|Money back for {order}"),
        "password": _t("Cannot reset my password|Password expired|Locked out of my account|Password reset link does not work"),
        "printer": _t("Printer offline|{product} not printing|Printer jams every page|Printer shows error {code}"),
        "delivery": _t("Where is my delivery?|Order {order} not delivered|Damaged parcel|Delivery delayed again"),
        "vpn": _t("VPN keeps disconnecting|Cannot connect to VPN|{product} error {code}|VPN slow from home"),
        "account": _t("Change the email on my account|Close my account|Add a user to our account|Account locked"),
        "laptop": _t("Laptop will not start|{product} battery drains fast|New laptop for a new hire|Laptop screen flickers"),
    },
    asks={
        "invoice": _t("I received invoice {order} but the amount is wrong.|We were charged twice for the same month.|"
                      "Could you send the invoice again as a PDF?|The due date on the invoice has already passed."),
        "refund": _t("I returned the goods on {date} and have not received a refund.|Please refund order {order}.|"
                     "The refund was promised two weeks ago.|How long does a refund usually take?"),
        "password": _t("I cannot log in since the password reset.|The reset link in the email has expired.|"
                       "My password does not work after the update.|I forgot my password and the account is locked."),
        "printer": _t("The printer on the second floor is offline again.|The {product} shows error {code}.|"
                      "Every page comes out with black stripes.|Nobody can print since this morning."),
        "delivery": _t("My order {order} has not arrived yet.|The tracking page has not changed since {date}.|"
                       "The parcel arrived damaged and the box was wet.|The courier left the parcel at the wrong address."),
        "vpn": _t("The VPN disconnects every ten minutes.|{product} says error {code} when I connect.|"
                  "I cannot reach the intranet over the VPN.|The VPN is very slow from my home network."),
        "account": _t("Please change the email address on our account.|We need a new user for our accountant.|"
                      "I would like to close my account.|Our account shows the wrong company name."),
        "laptop": _t("My {product} does not start after the update.|The battery lasts only an hour.|"
                     "The screen flickers when I open a video call.|A new colleague starts on {date} and needs a laptop."),
    },
    answers={
        "invoice": _t("I have corrected invoice {order} and sent a new one.|The double charge has been cancelled.|"
                      "You will find the invoice attached as a PDF.|I extended the due date by two weeks."),
        "refund": _t("Your refund for order {order} has been approved.|The refund will show on your account in 3-5 days.|"
                     "I forwarded the refund to our billing team.|We need the receipt before we can refund."),
        "password": _t("I have sent you a new password reset link.|Your account is unlocked now.|"
                       "Please try again in a private browser window.|The link is valid for 24 hours."),
        "printer": _t("We restarted the print server.|A technician will visit the printer today.|"
                      "Please update the driver for the {product}.|Error {code} means the fuser must be replaced."),
        "delivery": _t("I checked with the courier and the parcel {order} is on its way.|We will send a replacement.|"
                       "Please send photos of the damaged parcel.|The delivery should arrive by {date}."),
        "vpn": _t("Please reinstall {product} from the software portal.|We increased the VPN timeout.|"
                  "Error {code} is fixed by the new client version.|Could you send the VPN log file?"),
        "account": _t("I changed the email address on your account.|The new user has been created.|"
                      "Your account will be closed at the end of the month.|I updated the company name."),
        "laptop": _t("We will swap the laptop for a new one.|Please bring the {product} to the IT desk.|"
                     "The battery is under warranty.|The new laptop will be ready on {date}."),
    },
    common=tuple("the to and a of i is in it for you we on my this that with not be have can are please but "
                 "was from at as our your will so if thanks now again still also just when get there all "
                 "order account help today morning week time customer issue problem number working email "
                 "team update new send sent received payment office system error message phone".split()),
    syllables=tuple("con ver sta tion pro ment ing ex tra re port ble com pan al ter net work ly ful ness".split()),
)

FI = Language(
    greet=_t("Hei,|Moi,|Hyvä asiakaspalvelu,|Huomenta,|Terve,"),
    close=_t("Kiitos|Ystävällisin terveisin|Terveisin|Kiitos avusta|Hyvää päivänjatkoa"),
    subjects={
        "invoice": _t("Lasku {order} on väärin|Kysymys laskusta {order}|Tuplaveloitus laskulla|Laskua ei ole tullut"),
        "refund": _t("Hyvitys tilauksesta {order}|Odotan yhä hyvitystä|Palautus ja hyvitys|Rahat takaisin {order}"),
        "password": _t("Salasanan vaihto ei onnistu|Salasana vanhentunut|Tunnus lukittu|Salasanan palautuslinkki ei toimi"),
        "printer": _t("Tulostin ei tulosta|{product} jumissa|Tulostimessa virhe {code}|Tulostin offline-tilassa"),
        "delivery": _t("Missä tilaukseni on?|Tilaus {order} ei ole saapunut|Paketti vaurioitunut|Toimitus myöhässä"),
        "vpn": _t("VPN katkeilee|VPN-yhteys ei toimi|{product} virhe {code}|VPN hidas etätöissä"),
        "account": _t("Sähköpostiosoitteen muutos|Tilin sulkeminen|Uusi käyttäjä tilille|Tili lukittu"),
        "laptop": _t("Kannettava ei käynnisty|{product} akku tyhjenee|Kannettava uudelle työntekijälle|Näyttö välkkyy"),
    },
    asks={
        "invoice": _t("Sain laskun {order}, mutta summa on väärä.|Meitä on laskutettu kahdesti samasta kuusta.|"
                      "Voisitteko lähettää laskun uudelleen PDF-muodossa?|Laskun eräpäivä on jo mennyt."),
        "refund": _t("Palautin tuotteet {date}, mutta hyvitystä ei ole näkynyt.|Pyydän hyvitystä tilauksesta {order}.|"
                     "Hyvitys luvattiin kaksi viikkoa sitten.|Kuinka kauan hyvityksessä yleensä kestää?"),
        "password": _t("En pääse kirjautumaan salasanan vaihdon jälkeen.|Sähköpostin palautuslinkki on vanhentunut.|"
                       "Salasanani ei toimi päivityksen jälkeen.|Unohdin salasanan ja tunnus meni lukkoon."),
        "printer": _t("Toisen kerroksen tulostin on taas offline-tilassa.|{product} näyttää virhettä {code}.|"
                      "Jokaiseen sivuun tulee mustia raitoja.|Kukaan ei ole päässyt tulostamaan aamusta asti."),
        "delivery": _t("Tilaukseni {order} ei ole vielä saapunut.|Seurantasivu ei ole päivittynyt {date} jälkeen.|"
                       "Paketti tuli rikki ja laatikko oli märkä.|Kuljettaja jätti paketin väärään osoitteeseen."),
        "vpn": _t("VPN katkeaa kymmenen minuutin välein.|{product} antaa virheen {code} yhdistettäessä.|"
                  "En pääse intranetiin VPN:n kautta.|VPN on todella hidas kotiverkosta."),
        "account": _t("Vaihtakaa tilimme sähköpostiosoite.|Tarvitsemme uuden käyttäjän kirjanpitäjälle.|"
                      "Haluaisin sulkea tilini.|Tilillä näkyy väärä yrityksen nimi."),
        "laptop": _t("{product} ei käynnisty päivityksen jälkeen.|Akku kestää vain tunnin.|"
                     "Näyttö välkkyy videopuhelun aikana.|Uusi kollega aloittaa {date} ja tarvitsee kannettavan."),
    },
    answers={
        "invoice": _t("Korjasin laskun {order} ja lähetin uuden.|Tuplaveloitus on peruttu.|"
                      "Lasku on liitteenä PDF-tiedostona.|Siirsin eräpäivää kahdella viikolla."),
        "refund": _t("Hyvitys tilauksesta {order} on hyväksytty.|Hyvitys näkyy tilillänne 3-5 päivässä.|"
                     "Välitin hyvityksen laskutustiimille.|Tarvitsemme kuitin ennen hyvitystä."),
        "password": _t("Lähetin uuden salasanan palautuslinkin.|Tunnuksesi on nyt avattu.|"
                       "Kokeile uudelleen yksityisessä selainikkunassa.|Linkki on voimassa vuorokauden."),
        "printer": _t("Käynnistimme tulostuspalvelimen uudelleen.|Huoltomies käy tulostimella tänään.|"
                      "Päivitä {product} -ajuri.|Virhe {code} tarkoittaa, että kiinnitysyksikkö on vaihdettava."),
        "delivery": _t("Tarkistin kuljetusliikkeeltä, paketti {order} on matkalla.|Lähetämme korvaavan tuotteen.|"
                       "Lähetä kuvia vaurioituneesta paketista.|Toimituksen pitäisi olla perillä {date}."),
        "vpn": _t("Asenna {product} uudelleen ohjelmistoportaalista.|Pidensimme VPN:n aikakatkaisua.|"
                  "Virhe {code} korjaantuu uudella versiolla.|Voisitko lähettää VPN-lokitiedoston?"),
        "account": _t("Vaihdoin tilisi sähköpostiosoitteen.|Uusi käyttäjä on luotu.|"
                      "Tilisi suljetaan kuun lopussa.|Päivitin yrityksen nimen."),
        "laptop": _t("Vaihdamme kannettavan uuteen.|Tuo {product} IT-tukeen.|"
                     "Akulla on vielä takuu.|Uusi kannettava on valmiina {date}."),
    },
    common=tuple("ja on ei se että en mutta kun myös nyt vielä jo tämä oli ole voi olisi minä me te meidän "
                 "teidän kiitos tilaus asiakas ongelma viesti sähköposti päivä viikko aamu tänään heti pian "
                 "apua asia tili numero järjestelmä virhe puhelin toimisto maksu uusi".split()),
    syllables=tuple("ka la ta si ne ko ja mi tu va pa ri li sa nen inen lla ssa sta".split()),
)

DE = Language(
    greet=_t("Hallo,|Guten Tag,|Sehr geehrte Damen und Herren,|Guten Morgen,|Hi,"),
    close=_t("Danke|Vielen Dank|Mit freundlichen Grüßen|Viele Grüße|Beste Grüße"),
    subjects={
        "invoice": _t("Rechnung {order} ist falsch|Frage zur Rechnung {order}|Doppelte Abbuchung|Rechnung nicht erhalten"),
        "refund": _t("Erstattung für Bestellung {order}|Warte noch auf Erstattung|Rückerstattung|Geld zurück"),
        "password": _t("Passwort zurücksetzen geht nicht|Passwort abgelaufen|Konto gesperrt|Link funktioniert nicht"),
        "printer": _t("Drucker offline|{product} druckt nicht|Papierstau|Drucker zeigt Fehler {code}"),
        "delivery": _t("Wo ist meine Lieferung?|Bestellung {order} nicht geliefert|Paket beschädigt|Lieferung verspätet"),
        "vpn": _t("VPN trennt ständig|Keine VPN-Verbindung|{product} Fehler {code}|VPN langsam im Homeoffice"),
        "account": _t("E-Mail-Adresse ändern|Konto schließen|Neuer Benutzer|Konto gesperrt"),
        "laptop": _t("Laptop startet nicht|{product} Akku leer|Laptop für neuen Mitarbeiter|Bildschirm flackert"),
    },
    asks={t: _t("Ich habe ein Problem mit {order}.|Seit {date} funktioniert es nicht mehr.|"
                "Der Fehler {code} erscheint jedes Mal.|Bitte helfen Sie mir schnell.|Das {product} reagiert nicht.")
          for t in TOPICS},
    answers={t: _t("Wir haben das Problem mit {order} behoben.|Bitte versuchen Sie es erneut.|"
                   "Der Fehler {code} ist bekannt.|Wir melden uns bis {date}.|Bitte installieren Sie {product} neu.")
             for t in TOPICS},
    common=tuple("der die und das ist nicht ich wir sie es mit für auf ein eine bitte danke noch schon auch "
                 "aber wenn heute morgen Bestellung Kunde Problem Fehler Rechnung Konto Woche Nachricht".split()),
    syllables=tuple("ver ge be ung keit heit lich en er an schaft sch tag stell ein aus".split()),
)

SV = Language(
    greet=_t("Hej,|Hejsan,|God morgon,|Hej support,"),
    close=_t("Tack|Med vänliga hälsningar|Vänliga hälsningar|Mvh"),
    subjects={
        "invoice": _t("Fakturan {order} är fel|Fråga om faktura {order}|Dubbeldebitering"),
        "refund": _t("Återbetalning för order {order}|Väntar på återbetalning|Pengarna tillbaka"),
        "password": _t("Kan inte återställa lösenordet|Lösenordet har gått ut|Kontot är låst"),
        "printer": _t("Skrivaren är offline|{product} skriver inte ut|Skrivaren visar fel {code}"),
        "delivery": _t("Var är min leverans?|Order {order} har inte levererats|Skadat paket"),
        "vpn": _t("VPN kopplar ner hela tiden|Kan inte ansluta till VPN|{product} fel {code}"),
        "account": _t("Byt e-postadress på kontot|Stäng mitt konto|Ny användare"),
        "laptop": _t("Datorn startar inte|{product} batteriet tar slut|Ny dator till nyanställd"),
    },
    asks={t: _t("Jag har problem med {order}.|Sedan {date} fungerar det inte.|Felet {code} kommer varje gång.|"
                "Kan ni hjälpa mig?|Min {product} svarar inte.") for t in TOPICS},
    answers={t: _t("Vi har löst problemet med {order}.|Försök igen.|Felet {code} är känt.|"
                   "Vi återkommer senast {date}.|Installera om {product}.") for t in TOPICS},
    common=tuple("och att det som en är jag vi inte på för med till har kan men nu också tack order kund "
                 "problem fel faktura konto vecka meddelande".split()),
    syllables=tuple("för sta ning het lig en ar ska till an kon tor".split()),
)

FR = Language(
    greet=_t("Bonjour,|Madame, Monsieur,|Salut,"),
    close=_t("Merci|Cordialement|Bien à vous"),
    subjects={t: _t("Problème avec la commande {order}|Facture {order} incorrecte|Erreur {code}|Remboursement")
              for t in TOPICS},
    asks={t: _t("J'ai un problème avec la commande {order}.|Depuis le {date} cela ne fonctionne plus.|"
                "L'erreur {code} apparaît.|Merci de m'aider.") for t in TOPICS},
    answers={t: _t("Nous avons corrigé la commande {order}.|Veuillez réessayer.|L'erreur {code} est connue.")
             for t in TOPICS},
    common=tuple("le la les de et un une est pas je nous vous pour avec sur merci commande client facture".split()),
    syllables=tuple("tion ment re con par eur ette ai ou".split()),
)

ES = Language(
    greet=_t("Hola,|Buenos días,|Estimado soporte,"),
    close=_t("Gracias|Saludos|Un saludo"),
    subjects={t: _t("Problema con el pedido {order}|Factura {order} incorrecta|Error {code}|Reembolso")
              for t in TOPICS},
    asks={t: _t("Tengo un problema con el pedido {order}.|Desde el {date} no funciona.|Aparece el error {code}.|"
                "Por favor, ayúdenme.") for t in TOPICS},
    answers={t: _t("Hemos corregido el pedido {order}.|Por favor, inténtelo de nuevo.|El error {code} es conocido.")
             for t in TOPICS},
    common=tuple("el la de que y en un una es no por con para gracias pedido cliente factura".split()),
    syllables=tuple("ción men ar er ado ida con re".split()),
)

LANGS: dict[str, Language] = {"en": EN, "fi": FI, "de": DE, "sv": SV, "fr": FR, "es": ES}
NOTES = _t("Checked the billing system, the payment is there.|Customer called, wants an answer today.|"
           "Escalated to the vendor, waiting for their reply.|Same issue as last week, see the linked ticket.|"
           "Refund approved by the team lead.|Courier claim filed.|Password reset done by phone.|"
           "Driver update fixed it on two other machines.|Tarkistin laskutuksesta, maksu on kirjattu.|"
           "Asiakas soitti, haluaa vastauksen tänään.|Odotetaan toimittajan vastausta.|Do not refund before the goods are back.")
AGENT_LINES = _t("Thank you for your message.|Sorry for the trouble.|Let me know if this helps.|"
                 "Kiitos viestistäsi.|Pahoittelut vaivasta.|Danke für Ihre Nachricht.|Tack för ditt meddelande.")


class Corpus:
    """Draws text for one language at a time; every draw is from this corpus's own seeded random."""

    def __init__(self, seed: int, tail: int = 4000) -> None:
        self.rnd = random.Random(seed)
        self.langs = list(LANGUAGES)
        self.lang_weights = list(accumulate(LANGUAGES.values()))
        self.vocab: dict[str, tuple[list[str], list[float]]] = {}
        for code, lang in LANGS.items():
            words = list(lang.common) + self._tail(lang.syllables, tail)
            # Zipf: the word of rank r is drawn with weight 1/r^1.07 (natural language's exponent is about 1).
            self.vocab[code] = (words, list(accumulate(1 / r ** 1.07 for r in range(1, len(words) + 1))))

    def _tail(self, syllables: tuple[str, ...], n: int) -> list[str]:
        made: dict[str, None] = {}
        while len(made) < n:
            made["".join(self.rnd.choices(syllables, k=self.rnd.randint(2, 5)))] = None
        return list(made)

    def language(self) -> str:
        return self.rnd.choices(self.langs, cum_weights=self.lang_weights)[0]

    def topic(self) -> str:
        return self.rnd.choice(TOPICS)

    def name(self) -> tuple[str, str]:
        return self.rnd.choice(FIRST), self.rnd.choice(LAST)

    def _fill(self, template: str, order: str) -> str:
        r = self.rnd
        return template.format(order=order, product=r.choice(PRODUCTS), code=f"0x{r.randrange(16**6):06X}",
                               date=f"{r.randint(1, 28)}.{r.randint(1, 12)}.")

    def _filler(self, code: str) -> str:
        words, weights = self.vocab[code]
        picked = self.rnd.choices(words, cum_weights=weights, k=self.rnd.randint(4, 14))
        return " ".join(picked).capitalize() + "."

    def subject(self, code: str, topic: str, order: str) -> str:
        return self._fill(self.rnd.choice(LANGS[code].subjects[topic]), order)

    def customer_mail(self, code: str, topic: str, order: str, signer: str, rare: bool = False) -> str:
        lang, r = LANGS[code], self.rnd
        lines = [self._fill(s, order) for s in r.sample(lang.asks[topic], k=min(len(lang.asks[topic]), r.randint(1, 3)))]
        lines.insert(r.randrange(len(lines) + 1), self._filler(code))
        if rare:
            lines.append(f"The {RARE_WORD} reading is off as well.")
        return f"{r.choice(lang.greet)}\n\n{' '.join(lines)}\n\n{r.choice(lang.close)},\n{signer}"

    def agent_reply(self, code: str, topic: str, order: str, customer: str, agent: str) -> str:
        lang, r = LANGS[code], self.rnd
        lines = [self._fill(s, order) for s in r.sample(lang.answers[topic], k=min(len(lang.answers[topic]), r.randint(1, 3)))]
        if r.random() < 0.5:
            lines.append(self._filler(code))
        greeting = lang.greet[0].rstrip(",")
        return f"{greeting} {customer},\n\n{' '.join(lines)} {r.choice(AGENT_LINES)}\n\n{r.choice(lang.close)},\n{agent}"

    def note(self, code: str, order: str) -> str:
        r = self.rnd
        text = r.choice(NOTES)
        if r.random() < 0.3:
            text += f" Order {order}."
        if r.random() < 0.3:
            text += " " + self._filler(code)
        return text
