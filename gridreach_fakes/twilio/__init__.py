"""A fake Twilio on 127.0.0.1: the Calls REST resource, signed webhooks, TwiML, and a phone at the other end.

Written from Twilio's documentation, never from our adapter (this package does not import ``voice_caller``):

* ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (HTTP Basic auth: AccountSid + auth token) with form
  params ``To``, ``From``, ``Url`` (or ``Twiml``), ``StatusCallback``, ``StatusCallbackEvent`` (repeatable:
  initiated ringing answered completed; default completed only), ``MachineDetection``; answers ``201`` with the
  call as JSON, or a Twilio error body ``{"code", "message", "more_info", "status"}`` (401 bad credentials,
  400 bad parameters, and 429/500 on demand: ``fail_next``).
* ``GET /2010-04-01/Accounts/{AccountSid}/Calls.json`` lists calls, most recent first, filtered as documented:
  ``To``, ``From``, ``Status``, ``StartTime`` (``YYYY-MM-DD``: started that day, UTC), ``StartTime>=`` / ``StartTime<=``
  (sent as the parameter names ``StartTime>`` / ``StartTime<``: started on or after / on or before that day; a call
  not yet dialled has no start time and matches no StartTime filter), paged with ``PageSize`` (≤ 1000) and ``Page``.
* ``lose_next_create(how)``: the next create makes the call (it rings and calls back as usual) but its reply is
  lost: ``timeout`` (no reply for ``hold`` seconds), ``reset`` (the connection is dropped) or ``500``.
* ``POST …/Calls/{CallSid}.json`` with ``Twiml`` or ``Url`` (redirect: the stream stops, the new TwiML runs) or
  ``Status=completed`` (hang up) / ``Status=canceled`` (a call not yet answered); ``GET`` fetches the call.
* Each callee has a ``Callee`` behaviour: answer (a ``Phone`` with a script), busy, no-answer, failed, machine.
  An answered call POSTs to ``Url`` (form: AccountSid, ApiVersion, CallSid, CallStatus, Called, Caller, Direction,
  From, To, and AnsweredBy when machine detection was asked) with ``X-Twilio-Signature`` (HMAC-SHA1 over the URL
  followed by the sorted params, base64, keyed by the auth token), runs the TwiML: ``<Connect><Stream url>`` with
  ``<Parameter>``s opens the websocket (its handshake signed too) and runs the phone; ``<Say>``, ``<Pause>``,
  ``<Dial>`` (recorded as a transfer), ``<Redirect>``, ``<Hangup>``, ``<Reject>``.
* Status callbacks are POSTed, signed, for the events asked: CallStatus initiated / ringing / in-progress and the
  final completed / busy / no-answer / failed / canceled, with CallDuration and AnsweredBy.

Everything is recorded for assertions: ``requests`` (REST), ``calls`` (each with its webhooks, callbacks and their
HTTP results, TwiML, stream, phone and transfers). The server runs on its own event loop in a background thread;
use ``with FakeTwilio(...) as fake:`` and ``fake.base_url`` as the API base URL.
"""


from gridreach_fakes.twilio.fake import FakeTwilio
from gridreach_fakes.twilio.records import Callee, FakeCall, RestRequest, Webhook, new_sid, sign

__all__ = ["Callee", "FakeCall", "FakeTwilio", "RestRequest", "Webhook", "new_sid", "sign"]
