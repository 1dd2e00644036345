"""Delivery reports of our own making, in the shapes real servers and clients send them.

Each builder takes the mail as it left us (the bytes an SMTP relay received) and
returns the report a server or a mail program would send back about it: Postfix,
Exim (old plain-text style), qmail, Gmail, Exchange (2003-style NDR and Exchange
Online), a delayed-delivery warning, a Thunderbird-style read receipt (RFC 8098)
and a mailbox provider's abuse report (ARF, RFC 5965). Written from the RFCs and
from what those servers put in their bounces; no public test corpus was copied.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from email.parser import BytesHeaderParser
from email.policy import compat32

CUSTOMER = "mia@customer.test"
_ids = itertools.count(1)


def _headers(original: bytes) -> str:
    """The header block of the returned mail, as a server copies it (CRLF line ends)."""
    head = original.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return head + "\r\n"


def _without(original: bytes, name: str) -> str:
    kept = [line for line in _headers(original).split("\r\n")
            if line and not line.lower().startswith(name.lower() + ":")]
    return "\r\n".join(kept) + "\r\n"


def _field(original: bytes, name: str) -> str:
    return str(BytesHeaderParser(policy=compat32).parsebytes(original)[name] or "")


def _mail(headers: dict[str, str], body: str) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (head + "\r\n" + body).encode("utf-8")


def _report(boundary: str, report_type: str, parts: list[tuple[str, str]]) -> tuple[str, str]:
    body = "This is a MIME-encapsulated message.\r\n\r\n"
    for content_type, content in parts:
        body += f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n{content}\r\n"
    body += f"--{boundary}--\r\n"
    return f'multipart/report; report-type={report_type}; boundary="{boundary}"', body


def postfix(original: bytes, *, rcpt: str = CUSTOMER) -> bytes:
    """Postfix: human part, message/delivery-status, the whole mail as message/rfc822."""
    diagnostic = f"smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table"
    status = (f"Reporting-MTA: dns; mx1.customer.test\r\nX-Postfix-Queue-ID: 4QxYz12AbCd\r\n"
              f"X-Postfix-Sender: rfc822; support@helpdesk.test\r\nArrival-Date: Tue,  4 Mar 2025 09:02:11 +0200 (EET)\r\n"
              f"\r\nFinal-Recipient: rfc822; {rcpt}\r\nOriginal-Recipient: rfc822;{rcpt}\r\nAction: failed\r\n"
              f"Status: 5.1.1\r\nRemote-MTA: dns; mail.customer.test\r\nDiagnostic-Code: {diagnostic}\r\n")
    human = (f"This is the mail system at host mx1.customer.test.\r\n\r\nI'm sorry to have to inform you that your "
             f"message could not\r\nbe delivered to one or more recipients.\r\n\r\n<{rcpt}>: host mail.customer.test"
             f" said: 550 5.1.1\r\n    <{rcpt}>: Recipient address rejected: User unknown\r\n")
    content_type, body = _report("4QxYz12AbCd.1741071731/mx1.customer.test", "delivery-status", [
        ("text/plain; charset=us-ascii", human), ("message/delivery-status", status),
        ("message/rfc822", original.decode("utf-8", "replace"))])
    return _mail({"Return-Path": "<>", "From": "MAILER-DAEMON@mx1.customer.test (Mail Delivery System)",
                  "To": "support@helpdesk.test", "Subject": "Undelivered Mail Returned to Sender",
                  "Date": "Tue,  4 Mar 2025 09:02:12 +0200 (EET)", "Message-ID": f"<bounce{next(_ids)}@mx1.customer.test>",
                  "Auto-Submitted": "auto-replied", "MIME-Version": "1.0", "Content-Type": content_type}, body)


def exim(original: bytes) -> bytes:
    """Old Exim: one text/plain part, the reason in prose, the mail copied in below a line."""
    body = ("This message was created automatically by mail delivery software.\r\n\r\n"
            "A message that you sent could not be delivered to one or more of its\r\nrecipients. This is a permanent "
            "error. The following address(es) failed:\r\n\r\n"
            f"  {CUSTOMER}\r\n    host mx.customer.test [192.0.2.25]\r\n"
            f"    SMTP error from remote mail server after RCPT TO:<{CUSTOMER}>:\r\n"
            f"    550 5.1.1 <{CUSTOMER}>: Recipient address rejected: User unknown\r\n\r\n"
            "------ This is a copy of the message, including all the headers. ------\r\n\r\n"
            + original.decode("utf-8", "replace"))
    return _mail({"Return-path": "<>", "From": "Mail Delivery System <Mailer-Daemon@smtp.customer.test>",
                  "To": "support@helpdesk.test", "Subject": "Mail delivery failed: returning message to sender",
                  "Message-Id": f"<E1tExim-{next(_ids)}@smtp.customer.test>", "Date": "Tue, 04 Mar 2025 09:02:12 +0200",
                  "Content-Type": "text/plain; charset=utf-8"}, body)


def qmail(original: bytes) -> bytes:
    """qmail's 'failure notice': the code in parentheses, the mail below a dashed line."""
    body = ("Hi. This is the qmail-send program at customer.test.\r\nI'm afraid I wasn't able to deliver your message "
            "to the following addresses.\r\nThis is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
            f"<{CUSTOMER}>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
            "--- Below this line is a copy of the message.\r\n\r\n" + original.decode("utf-8", "replace"))
    return _mail({"From": "MAILER-DAEMON@customer.test", "To": "support@helpdesk.test", "Subject": "failure notice",
                  "Date": "4 Mar 2025 07:02:12 -0000", "Message-ID": f"<qmail{next(_ids)}@customer.test>"}, body)


def gmail(original: bytes) -> bytes:
    """Gmail: In-Reply-To/References name the mail; the returned headers here lack its Message-ID."""
    mid = _field(original, "Message-ID")
    status = ("Reporting-MTA: dns; googlemail.com\r\nArrival-Date: Tue, 04 Mar 2025 00:02:11 -0800 (PST)\r\n"
              f"X-Original-Message-ID: {mid}\r\n\r\nFinal-Recipient: rfc822; {CUSTOMER}\r\nAction: failed\r\n"
              "Status: 5.1.1\r\nRemote-MTA: dns; gmail-smtp-in.l.google.com. (2a00:1450:4010:c0e::1a, the server for "
              "the domain customer.test.)\r\nDiagnostic-Code: smtp; 550-5.1.1 The email account that you tried to "
              "reach does not exist. Please try\r\n 550-5.1.1 double-checking the recipient's email address for typos"
              "\r\nLast-Attempt-Date: Tue, 04 Mar 2025 00:02:12 -0800 (PST)\r\n")
    human = (f"** Address not found **\r\n\r\nYour message wasn't delivered to {CUSTOMER} because the address couldn't "
             "be found, or is unable to receive mail.\r\n\r\nThe response from the remote server was:\r\n"
             "550 5.1.1 The email account that you tried to reach does not exist.\r\n")
    content_type, body = _report("000000000000gmailreport", "delivery-status", [
        ("text/plain; charset=UTF-8", human), ("message/delivery-status", status),
        ("text/rfc822-headers", _without(original, "Message-ID"))])
    return _mail({"From": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "To": "support@helpdesk.test",
                  "Auto-Submitted": "auto-replied", "Subject": "Delivery Status Notification (Failure)",
                  "References": mid, "In-Reply-To": mid, "Message-ID": f"<gmail{next(_ids)}@mx.google.com>",
                  "Date": "Tue, 04 Mar 2025 00:02:12 -0800", "MIME-Version": "1.0", "Content-Type": content_type}, body)


def exchange_legacy(original: bytes) -> bytes:
    """Exchange 2003-style NDR: multipart/mixed (no report part), the original attached as message/rfc822."""
    subject = _field(original, "Subject")
    human = ("Your message did not reach some or all of the intended recipients.\r\n\r\n"
             f"      Subject:\t{subject}\r\n      Sent:\t3/4/2025 9:02 AM\r\n\r\n"
             "The following recipient(s) cannot be reached:\r\n\r\n"
             f"      {CUSTOMER} on 3/4/2025 9:02 AM\r\n"
             "            The e-mail account does not exist at the organization this message was sent to.\r\n"
             "            <mx.customer.test #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found>\r\n")
    body = ("--ndr-mixed\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + human + "\r\n"
            "--ndr-mixed\r\nContent-Type: message/rfc822\r\n\r\n" + original.decode("utf-8", "replace") + "\r\n"
            "--ndr-mixed--\r\n")
    return _mail({"From": "System Administrator <postmaster@customer.test>", "To": "support@helpdesk.test",
                  "Subject": f"Undeliverable: {subject}", "Date": "Tue, 4 Mar 2025 09:02:12 +0200",
                  "Message-ID": f"<ndr{next(_ids)}@exchange.customer.test>", "MIME-Version": "1.0",
                  "Content-Type": 'multipart/mixed; boundary="ndr-mixed"'}, body)


def exchange_online(original: bytes) -> bytes:
    """Exchange Online: a delivery-status report from the tenant's postmaster, the headers returned alone."""
    subject = _field(original, "Subject")
    status = ("Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com\r\n"
              "Received-From-MTA: dns;helpdesk.test\r\nArrival-Date: Tue, 4 Mar 2025 07:02:11 +0000\r\n\r\n"
              f"Original-Recipient: rfc822;{CUSTOMER}\r\nFinal-Recipient: rfc822;{CUSTOMER}\r\nAction: failed\r\n"
              "Status: 5.1.10\r\nDiagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
              "found by SMTP address lookup\r\n")
    human = (f"Your message to {CUSTOMER} couldn't be delivered.\r\n{CUSTOMER.split('@')[0]} wasn't found at "
             "customer.test.\r\n")
    content_type, body = _report("_000_exo_report_", "delivery-status", [
        ("text/plain; charset=us-ascii", human), ("message/delivery-status", status),
        ("text/rfc822-headers", _headers(original))])
    return _mail({"From": "postmaster@customer.onmicrosoft.com", "To": "support@helpdesk.test",
                  "Subject": f"Undeliverable: {subject}", "Date": "Tue, 4 Mar 2025 07:02:12 +0000",
                  "Message-ID": f"<exo{next(_ids)}@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>",
                  "Auto-Submitted": "auto-replied", "MIME-Version": "1.0", "Content-Type": content_type}, body)


def delayed(original: bytes) -> bytes:
    """Postfix's warning that it is still trying: not a failure."""
    status = ("Reporting-MTA: dns; mx1.customer.test\r\n\r\n"
              f"Final-Recipient: rfc822; {CUSTOMER}\r\nAction: delayed\r\nStatus: 4.4.1\r\n"
              "Diagnostic-Code: X-Postfix; connect to mail.customer.test[192.0.2.25]:25: Connection timed out\r\n"
              "Will-Retry-Until: Sat, 8 Mar 2025 09:02:11 +0200 (EET)\r\n")
    content_type, body = _report("delay-report", "delivery-status", [
        ("text/plain", "This is the mail system at host mx1.customer.test.\r\n\r\n####### THIS IS A WARNING ONLY. "
                       "YOU DO NOT NEED TO RESEND YOUR MESSAGE. #######\r\n"),
        ("message/delivery-status", status), ("text/rfc822-headers", _headers(original))])
    return _mail({"Return-Path": "<>", "From": "MAILER-DAEMON@mx1.customer.test (Mail Delivery System)",
                  "To": "support@helpdesk.test", "Subject": "Delayed Mail (still being retried)",
                  "Message-ID": f"<delay{next(_ids)}@mx1.customer.test>", "MIME-Version": "1.0",
                  "Content-Type": content_type}, body)


def read_receipt(original: bytes, *, disposition: str = "displayed") -> bytes:
    """A Thunderbird-style MDN (RFC 8098): the customer opened our reply."""
    mid, subject = _field(original, "Message-ID"), _field(original, "Subject")
    fields = (f"Reporting-UA: laptop.customer.test; Thunderbird 128.7.1\r\nFinal-Recipient: rfc822;{CUSTOMER}\r\n"
              f"Original-Message-ID: {mid}\r\nDisposition: manual-action/MDN-sent-manually; {disposition}\r\n")
    content_type, body = _report("------------mdn0123", "disposition-notification", [
        ("text/plain; charset=UTF-8", f"This is a Return Receipt for the mail that you sent to {CUSTOMER}.\r\n\r\n"
                                      "Note: This Return Receipt only acknowledges that the message was displayed."),
        ("message/disposition-notification", fields),
        ("text/rfc822-headers", _headers(original))])
    return _mail({"From": f"Mia Customer <{CUSTOMER}>", "To": "support@helpdesk.test",
                  "Subject": f"Return Receipt (displayed) - {subject}", "Date": "Tue, 4 Mar 2025 09:30:00 +0200",
                  "Message-ID": f"<mdn{next(_ids)}@customer.test>", "MIME-Version": "1.0",
                  "Content-Type": content_type}, body)


def abuse_report(original: bytes, *, feedback_type: str = "abuse", rcpt: str = CUSTOMER) -> bytes:
    """A mailbox provider's ARF report (RFC 5965): the customer pressed 'This is spam' on our mail."""
    fields = (f"Feedback-Type: {feedback_type}\r\nUser-Agent: ExampleMail-FBL/2.1\r\nVersion: 1\r\n"
              "Original-Mail-From: <support@helpdesk.test>\r\n"
              + (f"Original-Rcpt-To: <{rcpt}>\r\n" if rcpt else "")
              + "Arrival-Date: Tue, 04 Mar 2025 07:02:11 +0000\r\nReporting-MTA: dns; fbl.mail.example\r\n"
              "Source-IP: 192.0.2.10\r\nReported-Domain: helpdesk.test\r\n")
    content_type, body = _report("arf-boundary", "feedback-report", [
        ("text/plain; charset=us-ascii", "This is an email abuse report for an email message received from IP "
                                         "192.0.2.10 on Tue, 04 Mar 2025 07:02:11 +0000."),
        ("message/feedback-report", fields),
        ("message/rfc822", original.decode("utf-8", "replace"))])
    return _mail({"From": "ExampleMail Feedback <fbl@mail.example>", "To": "abuse@helpdesk.test",
                  "Subject": "FW: Email Feedback Report for IP 192.0.2.10",
                  "Date": "Tue, 4 Mar 2025 07:30:00 +0000", "Message-ID": f"<arf{next(_ids)}@fbl.mail.example>",
                  "MIME-Version": "1.0", "Content-Type": content_type}, body)


# The bounces, by who sends them, with the reason each must show on the ticket.
BOUNCES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "postfix": (postfix, "550 5.1.1 <mia@customer.test>: Recipient address rejected: User unknown"),
    "exim": (exim, "550 5.1.1 <mia@customer.test>: Recipient address rejected: User unknown"),
    "qmail": (qmail, "Sorry, no mailbox here by that name. (#5.1.1)"),
    "gmail": (gmail, "550-5.1.1 The email account that you tried to reach does not exist."),
    "exchange-2003": (exchange_legacy, "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"),
    "exchange-online": (exchange_online, "550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
}
