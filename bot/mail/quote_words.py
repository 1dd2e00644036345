"""The words mail clients put around quoted history, per language: the tables `bot.mail.quotes` reads.

Adding a language is adding words here, never code. Each entry is what the clients of that
language really write (Gmail, Outlook desktop/web/mobile, Apple Mail and iOS, Android mail
apps, Thunderbird, Yahoo, Zoho); the comment names the language. Matching is case-insensitive.
"""

from __future__ import annotations

import re

# --- "On <date>, <name> wrote:" -----------------------------------------------------------
# Verbs that end an attribution line ("… Support <s@x> wrote:"); regex fragments.
VERBS_AT_END = (
    r"wrote", r"writes", r"has written",  # en
    r"kirjoitti",  # fi
    r"skrev",  # sv, da, no (Apple: "… skrev Name <a>:" is in VERBS_BEFORE_NAME)
    r"schrieb", r"geschrieben",  # de ("… hat Name Folgendes geschrieben:")
    r"schreef", r"geschreven",  # nl ("… heeft Name het volgende geschreven:")
    r"a écrit", r"écrit",  # fr
    r"escribió", r"escribio",  # es
    r"ha scritto", r"scritto",  # it
    r"napisał\(a\)", r"napisał", r"napisała", r"pisze",  # pl
    r"escreveu",  # pt
    r"написал\(а\)", r"написал", r"написала", r"пишет",  # ru
    r"書きました", r"のメッセージ", r"のメール",  # ja
    r"napsal\(a\)", r"napsal",  # cs
    r"yazdı",  # tr
    r"đã viết",  # vi
    r"写道", r"寫道",  # zh
    r"작성",  # ko
    r"írta",  # hu
    r"έγραψε",  # el
    r"a scris",  # ro
    r"написав\(ла\)", r"написав", r"написала",  # uk
    r"napísal\(a\)", r"napísal",  # sk
    r"je napisao", r"je napisala", r"napisao", r"je napisal\(a\)", r"je napisal",  # hr, sr, sl
    r"rašė", r"rakstīja", r"kirjutas",  # lt, lv, et
    r"va escriure", r"skrifaði", r"menulis", r"כתב", r"كتب",  # ca, is, id, he, ar
)
# Verbs followed by the writer or the date before the colon: "Den 3 mars 2025 skrev Name <a>:",
# "Am 03.03.25 um 10:15 schrieb Support:", "Tuki kirjoitti 3.3.2025 klo 10.15:".
VERBS_BEFORE_NAME = (r"skrev", r"schrieb", r"schreef", r"kirjoitti", r"napisana przez", r"ezt írta")

# How a wrapped attribution starts, so its first line is recognised as part of it: an opening word,
# a weekday abbreviation and a day ("ti 4. maaliskuuta", "Mo., 3. März", "пн, 3 мар."), or a date.
OPENINGS = (
    r"on", r"am", r"le", r"el", r"il", r"il giorno", r"op", r"den", r"em", r"a", r"no dia", r"w dniu", r"dnia",
    r"dne", r"wiadomość napisana przez", r"vào", r"quoting", r"citando", r"zitat von",
)
OPENING = re.compile(
    r"^(?:(?:" + "|".join(OPENINGS) + r")\s|[^\W\d_]{1,12}\.?,?\s+\d|\d)",
    re.IGNORECASE,
)

# Attributions with no verb at all, only an opening word and the writer: "Quoting Name <a>:" (Horde).
QUOTING = re.compile(r"^(?:quoting|zitat von|citando|cytuję|lainaus)\s.{1,200}$", re.IGNORECASE)

# --- Outlook-style header blocks ("From: … / Sent: … / To: … / Subject: …") ----------------
# Field label -> what it is; a block needs a sender and two more kinds of field.
FIELDS: dict[str, tuple[str, ...]] = {
    "from": ("from", "von", "lähettäjä", "från", "fra", "van", "de", "da", "od", "от", "差出人", "送信者",
             "kimden", "từ", "发件人", "寄件者", "feladó", "afzender", "reply to", "reply-to", "από", "від", "de la",
             "šalje", "מאת", "من", "보낸 사람", "dari"),
    "sent": ("sent", "date", "gesendet", "datum", "lähetetty", "päivämäärä", "päiväys", "skickat", "sendt", "dato",
             "verzonden", "verstuurd", "envoyé", "envoyé le", "enviado", "enviado el", "enviada em", "enviado em",
             "fecha", "inviato", "data", "wysłano", "wysłane", "отправлено", "дата", "送信日時", "日付", "gönderildi",
             "tarih", "đã gửi", "发送时间", "日期", "elküldve", "odesláno", "odoslané", "απεστάλη", "надіслано",
             "trimis", "poslano", "נשלח", "تم الإرسال", "보낸 날짜", "dikirim", "tanggal"),
    "to": ("to", "an", "vastaanottaja", "till", "til", "aan", "à", "a", "para", "do", "кому", "宛先", "kime",
           "komu", "đến", "收件人", "címzett", "προς", "către", "prima", "אל", "إلى", "받는 사람", "kepada"),
    "cc": ("cc", "kopio", "kopia", "kopi", "копия", "dw", "kopie"),
    "subject": ("subject", "betreff", "aihe", "ämne", "emne", "onderwerp", "objet", "asunto", "oggetto", "temat",
                "assunto", "тема", "件名", "konu", "předmět", "chủ đề", "主题", "tárgy", "θέμα", "subiect", "predmet",
                "נושא", "الموضوع", "제목", "perihal", "subjek"),
}

# --- separator lines ------------------------------------------------------------------------
# "-----Original Message-----" and its kin: everything below is history.
ORIGINAL_MESSAGE = (
    "original message", "original e-mail", "original mail", "original", "reply message", "ursprüngliche nachricht",
    "originalnachricht", "ursprüngliche e-mail", "oprindelig meddelelse", "original meddelelse",
    "opprinnelig melding", "ursprungligt meddelande", "originalmeddelande", "alkuperäinen viesti",
    "oorspronkelijk bericht", "origineel bericht", "message d'origine", "message original", "mensaje original",
    "messaggio originale", "messaggio originario", "oryginalna wiadomość", "wiadomość oryginalna",
    "mensagem original", "исходное сообщение", "оригинальное сообщение", "元のメッセージ", "オリジナルメッセージ",
    "původní zpráva", "původní e-mail", "orijinal mesaj", "tin nhắn gốc", "原始邮件", "原始郵件", "eredeti üzenet",
    "please type your reply above this line", "reply above this line", "type your reply above this line",
)
NEEDS_RULES = {"original"}  # a separator only with dashes around it: "---------- Original ----------"
# A forward: the forwarded mail is usually the request itself, so a forward is shown whole.
FORWARDED = (
    "forwarded message", "forwarded e-mail", "forwarded email", "begin forwarded message",
    "weitergeleitete nachricht", "anfang der weitergeleiteten nachricht", "välitetty viesti",
    "välitetty viesti alkaa", "vidarebefordrat meddelande", "vidarebefordrat brev", "videresendt meddelelse",
    "videresendt melding", "videresendt besked", "doorgestuurd bericht", "begin doorgestuurd bericht",
    "message transféré", "début du message réexpédié", "début du message transféré", "mensaje reenviado",
    "inicio del mensaje reenviado", "messaggio inoltrato", "inizio messaggio inoltrato",
    "wiadomość przekazana dalej", "przekazana wiadomość", "początek przekazywanej wiadomości",
    "mensagem encaminhada", "início da mensagem reencaminhada", "início da mensagem encaminhada",
    "пересылаемое сообщение", "переадресованное сообщение", "начало переадресованного сообщения",
    "転送メッセージ", "転送されたメッセージ", "přeposlaná zpráva", "iletilen mesaj", "转发的邮件",
)
# Subject prefixes of a forward (FW:, WG:, VL:, TR:, RV:, ENC:, I:, PD:…); "VS:" is left out, it is
# a reply in Finnish and a forward in Danish and Norwegian.
FORWARD_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?:fwd?|fw|wg|vl|vb|tr|rv|enc|i|pd|doorst|пересл|転送)\s*:", re.IGNORECASE
)

# --- signatures and footers -----------------------------------------------------------------
# "Sent from my iPhone" and its kin in every language: how a line opens…
FOOTER_OPENINGS = (
    "sent from", "sent via", "sent with", "sent using", "sent wirelessly from", "sent on the go with",
    "get outlook for", "envoyé de", "envoyé depuis", "enviado desde", "enviado do", "enviado de",
    "enviado con", "von meinem", "gesendet von", "gesendet mit", "verstuurd vanaf", "verzonden vanaf",
    "verzonden met", "inviato da", "inviato dal", "skickat från", "sendt fra", "lähetetty", "wysłane z",
    "wysłano z", "отправлено с", "отправлено из", "odesláno z",
)
# … and what it must name: a device or a mail app.
FOOTER_DEVICES = (
    "iphone", "ipad", "android", "blackberry", "samsung", "galaxy", "huawei", "xiaomi", "pixel", "mobile",
    "mobil", "mobiili", "smartphone", "phone", "device", "tablet", "outlook", "mail", "yahoo", "mailbox",
    "proton", "aol", "zoho", "gmail", "windows", "spark", "bluemail", "k-9", "nine", "edison", "nokia",
    "sparrow", "airmail", "newton", "canary", "superhuman", "tutanota", "fastmail", "icloud", "yandex",
    "motorola", "htc", "xperia", "sony", "oneplus", "oppo", "lenovo", "asus", "lumia", "ipod", "kindle", "verizon",
)
# Footers written the other way round (Japanese, Chinese) or with no device at all.
FOOTER_WHOLE = (r"\S{0,20}から送信", r"从我的\S{0,20}发送", r"please excuse (?:my )?(?:brevity|typos|any typos)")
# Mailing list and group footers: everything from here to the end of that part is the list's.
LIST_FOOTER = re.compile(
    r"^(?:you received this message because you are subscribed to|to unsubscribe from this (?:group|list)"
    r"|this message was sent to|you are receiving this because|reply to this email directly"
    r"|you received this (?:message|email) because)",
    re.IGNORECASE,
)
LIST_WORDS = re.compile(r"mailing list|listinfo|unsubscribe|list-?id|lists?\.", re.IGNORECASE)
