"""Channel ``teams``: ``POST /api/messages`` through botbuilder's ``CloudAdapter``.

botbuilder and botframework live here and in the ``adapters/teams_*`` modules beside it
(authentication in ``teams_connection``, delivery in ``teams_delivery``). A request is
authenticated first (any failure, including SDK crashes on forged tokens, is a 401 and runs
no bot logic), checked against the tenant, then acknowledged at once: answers are produced
in a background task and delivered proactively from the saved conversation reference
(typing indicator first, Teams streaming in personal chats, Adaptive Card with sources and
👍/👎 at the end). Messages are kept in the chat inbox (:mod:`bot.inbox`) until answered:
another replica answers them if this one dies first.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ConversationReference,
)
from botframework.connector.auth import AuthenticateRequestResult

from adapters.teams_activity import InvalidActivity, check_activity, parse_body
from adapters.teams_cards import (
    CARD_ACTION,
    CARD_CONTENT_TYPE,
    FEEDBACK_ACTION,
    MAX_TEXT_BYTES,
    TEMPLATE_ACTION,
    adaptive_card,
    answer_card,
    card_action,
    form_values,
    inert_text,
    needs_card,
    split_text,
    template_form_card,
    welcome_card,
)
from adapters.teams_channel_files import ChannelFileReader, build_channel_files, mentions_files
from adapters.teams_connection import TeamsEndpoints, build_authentication, configured_endpoints
from adapters.teams_delivery import (
    STREAM_WINDOW_SECONDS,
    Connector,
    DeliveryError,
    StaleStream,
    Stream,
    StreamInfo,
)
from adapters.teams_files import (
    CHANNEL_FILES,
    TeamsJobReporter,
    file_parts,
    message_reference,
    receive_files,
)
from bot.app import Runtime
from bot.files.intake import FileRejected
from bot.i18n import t
from bot.inbox import Held
from bot.messages import Action, Channel, Delta, Locale, Message, Progress, Reply, Space, User
from bot.store.inbox import InboxEntry
from skills.template_syntax import command_text
from skills.templates import find_form

log = logging.getLogger(__name__)

_BOT_MENTION_SPACES = re.compile(r"\s+")
_UNREADABLE = "unreadable"
_DOWNLOADS = "downloads"


def _locale(value: object) -> Locale | None:
    if isinstance(value, str):
        language = value.split("-")[0].lower()
        if language in ("fr", "en"):
            return language  # type: ignore[return-value]
    return None


class TeamsAdapter:
    """Channel ``teams`` on the shared aiohttp app.

    Keyword injections (tests, sovereign clouds): ``endpoints`` replaces the public
    cloud endpoints; ``outbound_token`` replaces MSAL with a token source;
    ``login_verify`` is the TLS check of a custom cloud's login service (a CA bundle
    path); ``retry_delays``, ``stream_interval`` and ``stream_window`` (seconds) tune
    delivery (the last is how long Teams keeps a stream open); ``channel_files`` reads the
    files of channel posts (default: from the settings, Microsoft Graph).
    """

    name = "teams"

    def __init__(
        self,
        runtime: Runtime,
        *,
        endpoints: TeamsEndpoints | None = None,
        outbound_token: Callable[[], str] | None = None,
        login_verify: bool | str = True,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0),
        stream_interval: float = 1.0,
        stream_window: float = STREAM_WINDOW_SECONDS,
        channel_files: ChannelFileReader | None = None,
    ) -> None:
        self._runtime = runtime
        self._settings = runtime.settings.teams
        self._app_id = self._settings.app_id
        self._connector = Connector(retry_delays)
        self._stream_interval = stream_interval
        self._stream_window = stream_window
        self._channel_files = channel_files or build_channel_files(runtime.settings)
        self._tasks: set[asyncio.Task[None]] = set()
        endpoints = endpoints or configured_endpoints(self._settings)
        self._authentication = build_authentication(self._settings, endpoints, outbound_token,
                                                    login_verify)
        self._adapter = CloudAdapter(self._authentication)
        runtime.inbox.register(self.name, self)  # messages a dead replica left unanswered
        if runtime.files is not None:
            runtime.reporters[self.name] = TeamsJobReporter(
                self._continue, absolute_links=bool(runtime.settings.files.public_url),
                link_hours=max(1, runtime.settings.files.link_ttl_minutes // 60))

    async def _continue(self, reference: ConversationReference,
                        work: Callable[[TurnContext], Awaitable[None]]) -> None:
        """Run ``work`` in a conversation proactively (job progress and results)."""
        await self._adapter.continue_conversation(reference, work, self._app_id)

    # -- HTTP --------------------------------------------------------------------------

    @property
    def busy(self) -> int:
        """How many background replies are still running."""
        return len(self._tasks)

    def mount(self, app: web.Application) -> None:
        """Add ``POST /api/messages`` and a clean-up hook that finishes pending answers."""
        if self._app_id is None:
            log.warning("TEAMS EMULATOR MODE: /api/messages accepts UNAUTHENTICATED requests; "
                        "never expose this endpoint beyond this machine")
        app.router.add_post("/api/messages", self._messages)
        app.on_shutdown.append(self._drain)

    async def _drain(self, _app: web.Application) -> None:
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=10.0)
            for task in pending:
                task.cancel()
        await self._authentication.close_clients()

    async def _messages(self, request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        header = request.headers.get("Authorization")
        if self._app_id is not None and await self._authenticate(Activity(), header) is None:
            return _unauthorized()  # the token itself is checked before the body is parsed
        try:
            body = parse_body(await request.read())
            if not isinstance(body.get("type"), str) or not body["type"]:
                raise InvalidActivity("no activity type")
            activity = Activity().deserialize(body)
        except ValueError as error:  # InvalidActivity, msrest's DeserializationError
            log.info("teams: refused an unreadable activity (%s)", type(error).__name__)
            return web.json_response({"error": "invalid activity"}, status=400)
        authenticated = await self._authenticate(activity, header)
        if authenticated is None:  # the token is bound to this activity's channel and service
            return _unauthorized()
        try:
            check_activity(body)
        except InvalidActivity as error:
            log.info("teams: refused a malformed activity: %s", error)
            return web.json_response({"error": "invalid activity"}, status=400)
        if not self._tenant_allowed(body):
            log.warning("teams: refused an activity from another tenant")
            return web.json_response({"error": "tenant not allowed"}, status=403)
        try:
            invoke = await self._adapter.process_activity(
                authenticated, activity, lambda context: self._turn(context, body))
        except Exception:
            log.exception("teams: turn failed for activity %s", body.get("id"))
            return web.json_response({"error": "internal error"}, status=500)
        if isinstance(invoke, InvokeResponse):
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=200)

    async def _authenticate(self, activity: Activity,
                            header: str | None) -> AuthenticateRequestResult | None:
        """The SDK's verdict on the token, ``None`` when refused.

        Called first with an empty activity (signature, issuer, audience, lifetime), then
        with the parsed one (endorsed channel, ``serviceurl`` claim).
        """
        if self._app_id is not None and not header:
            log.warning("teams: refused a request without a token")
            return None
        try:
            result: AuthenticateRequestResult = await self._authentication.authenticate_request(
                activity, header)
        except Exception as error:  # noqa: BLE001 (the SDK crashes on forged tokens: all 401)
            log.warning("teams: refused an unauthenticated request (%s)", type(error).__name__)
            return None
        return result

    def _tenant_allowed(self, body: dict[str, Any]) -> bool:
        expected = self._settings.tenant_id
        if expected is None or self._settings.app_type == "MultiTenant":
            return True
        conversation = body.get("conversation") or {}
        tenant = conversation.get("tenantId") or ((body.get("channelData") or {})
                                                   .get("tenant") or {}).get("id")
        return isinstance(tenant, str) and tenant.lower() == expected.lower()

    # -- turns ---------------------------------------------------------------------------

    async def _turn(self, context: TurnContext, body: dict[str, Any]) -> None:
        kind = body.get("type")
        if kind == ActivityTypes.message:
            await self._on_message(context, body)
        elif kind == ActivityTypes.conversation_update:
            await self._on_conversation_update(context, body)
        elif kind == ActivityTypes.installation_update:
            log.info("teams: installation %s in %s", body.get("action"),
                     (body.get("conversation") or {}).get("conversationType"))
        elif kind == ActivityTypes.invoke:
            await self._on_invoke(context, body)
        else:
            log.debug("teams: ignored activity type %r", kind)

    def _spawn(self, reference: ConversationReference,
               work: Callable[[TurnContext], Awaitable[None]], kept: _Kept | None = None
               ) -> None:
        """Run ``work`` in the conversation in the background. The inbox entry it answers
        (``kept``; a new one is written beside the answer: a database write before it would
        delay the acknowledgement and the typing indicator) is forgotten once it ran, or
        failed to."""
        async def run() -> None:
            inbox = self._runtime.inbox
            if kept is not None and kept.new:
                kept.entry, kept.new = inbox.keep(self.name, kept.user_id, kept.payload), False
            try:
                await inbox.answering(kept.entry if kept is not None else None,
                                      self._adapter.continue_conversation(
                                          reference, work, self._app_id))
            except Exception:
                log.exception("teams: background delivery failed in %s",
                              reference.conversation.id if reference.conversation else "?")

        self._spawn_plain(run())

    def _spawn_plain(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_message(self, context: TurnContext, body: dict[str, Any]) -> None:
        reference = TurnContext.get_conversation_reference(context.activity)
        value = body.get("value")
        if isinstance(value, dict) and (
                value.get("almia") == FEEDBACK_ACTION or not (body.get("text") or "").strip()):
            ok = await self._record_feedback(body, value)
            self._spawn(reference, lambda ctx: self._send_text(ctx, _feedback_text(ok, body)))
            return
        message = self._message(body)
        if message is None:
            return
        kept = _Kept(message.user.id, {"activity": body}, new=True)
        self._spawn(reference, lambda ctx: self._answer(ctx, message, body, kept), kept)

    def resume(self, entry: InboxEntry) -> None:
        """Answer a message another replica acknowledged and did not answer. A card button
        it left is not pressed again (it may have taken effect): its presser is told."""
        taken = self._taken(entry)
        if taken is None:
            return
        reference, message, body, kept = taken
        if kept.payload.get("kind") == _ACTION:
            notice = self._interrupted(message, body)
            self._spawn(reference, lambda ctx: self._tell_interrupted(ctx, message, notice), kept)
            return
        self._spawn(reference, lambda ctx: self._answer(ctx, message, body, kept), kept)

    def give_up(self, entry: InboxEntry) -> None:
        """Tell the asker, in their conversation, that their message was not answered."""
        taken = self._taken(entry)
        if taken is None:
            return
        reference, message, body, kept = taken
        if kept.payload.get("kind") == _ACTION:
            notice = self._interrupted(message, body)
            self._spawn(reference, lambda ctx: self._tell_interrupted(ctx, message, notice), kept)
            return
        apology = t("not_answered", self._runtime.assistant.locale_of(message))
        self._spawn(reference, lambda ctx: self._send_text(ctx, apology), kept)

    def _taken(self, entry: InboxEntry) -> tuple[ConversationReference, Message,
                                                 dict[str, Any], _Kept] | None:
        """The reference, message and activity an inbox entry kept; None (and the entry
        forgotten) when it holds no answerable message."""
        payload = dict(entry.payload or {})
        body = payload.get("activity")
        message = self._work(body, payload.get("kind")) if isinstance(body, dict) else None
        if message is None:
            log.warning("teams: inbox entry %s holds no answerable message", entry.id)
            self._spawn_plain(self._runtime.inbox.forget(entry.id))
            return None
        assert isinstance(body, dict)  # a message was read from it
        activity = Activity().deserialize(body)
        return (TurnContext.get_conversation_reference(activity), message, body,
                _Kept(message.user.id, payload, entry.id))

    def _work(self, body: dict[str, Any], kind: object) -> Message | None:
        """What a kept activity asks: a message, a template form's command, or a button."""
        if kind == _TEMPLATE:
            return self._template_command(body)
        if kind == _ACTION:
            return self._card_message(body)
        return self._message(body)

    async def _tell_interrupted(self, context: TurnContext, message: Message,
                                notice: str) -> None:
        """A press a dead replica left: its presser is told to check before pressing again,
        and the press may be pressed again at once (not when its claim expires)."""
        await self._send_text(context, notice)
        await self._runtime.assistant.presses.release(message)

    def _interrupted(self, message: Message, body: dict[str, Any]) -> str:
        """The notice for a button pressed while a replica died: it may have taken effect."""
        value = body.get("value")
        action = value.get("action") if isinstance(value, dict) else None
        title = action.get("title") if isinstance(action, dict) else None
        label = " ".join(str(title).split())[:80] if isinstance(title, str) and title.strip() \
            else (message.action.name if message.action is not None else "?")
        return t("action_interrupted", self._runtime.assistant.locale_of(message),
                 label=inert_text(label))

    async def _on_invoke(self, context: TurnContext, body: dict[str, Any]) -> None:
        if body.get("name") != "adaptiveCard/action":
            log.info("teams: unsupported invoke %r", body.get("name"))
            await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                                 value=InvokeResponse(status=501)))
            return
        data = _action_data(body.get("value"))
        if isinstance(data, dict) and data.get("almia") == TEMPLATE_ACTION:
            await self._on_template_submit(context, body)
            return
        if isinstance(data, dict) and data.get("almia") == CARD_ACTION:
            await self._on_card_action(context, body)
            return
        ok = await self._record_feedback(body, data)
        response = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                    "value": _feedback_text(ok, body)}
        await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                             value=InvokeResponse(status=200, body=response)))

    def _template_command(self, body: dict[str, Any]) -> Message | None:
        """A submitted template card as ``template use NAME@version var=…``; None if invalid."""
        data = _action_data(body.get("value"))
        message = self._message({**body, "text": "", "value": None}, mentioned=True)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) \
                or message is None:
            return None
        version = data.get("version")
        words = command_text(data["name"], version if isinstance(version, int) else None,
                             form_values(data))
        return Message(text=f"template {words}", user=message.user, space=message.space,
                       channel=Channel.TEAMS, thread_id=message.thread_id,
                       locale=_locale(body.get("locale")) or "fr", raw=message.raw)

    def _card_message(self, body: dict[str, Any]) -> Message | None:
        """A card button (``bot.cards``) as an action message; None if invalid."""
        data = _action_data(body.get("value"))
        parsed = card_action(data) if isinstance(data, dict) else None
        message = self._message({**body, "text": "", "value": None}, mentioned=True)
        if parsed is None or message is None:
            return None
        return Message(text="", user=message.user, space=message.space, channel=Channel.TEAMS,
                       thread_id=message.thread_id, locale=message.locale, raw=body,
                       action=Action(*parsed))

    async def _on_template_submit(self, context: TurnContext, body: dict[str, Any]) -> None:
        """A submitted template card runs ``template use NAME@version var=…`` in the chat
        (kept in the inbox: another replica runs it again if this one dies first)."""
        locale = _locale(body.get("locale")) or "fr"
        command = self._template_command(body)
        if command is None:
            response = {"statusCode": 400, "type": "application/vnd.microsoft.error",
                        "value": {"code": "BadRequest", "message": "invalid template form"}}
        else:
            reference = TurnContext.get_conversation_reference(context.activity)
            kept = _Kept(command.user.id, {"activity": body, "kind": _TEMPLATE}, new=True)
            self._spawn(reference, lambda ctx: self._answer(ctx, command, body, kept), kept)
            response = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                        "value": "⏳ Je lance le modèle…" if locale == "fr"
                        else "⏳ Running the template…"}
        await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                             value=InvokeResponse(status=200, body=response)))

    async def _on_card_action(self, context: TurnContext, body: dict[str, Any]) -> None:
        """A card button (``bot.cards``): the named skill answers in the conversation (kept
        in the inbox: if this replica dies first, another tells the presser)."""
        action = self._card_message(body)
        if action is None:
            response = {"statusCode": 400, "type": "application/vnd.microsoft.error",
                        "value": {"code": "BadRequest", "message": "invalid card action"}}
        else:
            reference = TurnContext.get_conversation_reference(context.activity)
            kept = _Kept(action.user.id, {"activity": body, "kind": _ACTION}, new=True)
            self._spawn(reference, lambda ctx: self._answer(ctx, action, body, kept), kept)
            fr = (action.locale or "fr") == "fr"
            response = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                        "value": "⏳ C'est noté…" if fr else "⏳ Noted…"}
        await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                             value=InvokeResponse(status=200, body=response)))

    async def _record_feedback(self, body: dict[str, Any], data: object) -> bool:
        if not isinstance(data, dict):
            log.info("teams: card submit without data")
            return False
        turn_id, value = data.get("turn_id"), data.get("value")
        try:
            number = int(value) if isinstance(value, int | str) else 0
        except ValueError:
            number = 0
        if not isinstance(turn_id, str) or not turn_id or number not in (1, -1):
            log.info("teams: card submit with missing or invalid fields %s", sorted(data))
            return False
        user = self._user(body)
        try:
            return await self._runtime.assistant.store.record_feedback(turn_id, user.id, number)
        except Exception:
            log.exception("teams: could not store feedback on %s", turn_id)
            return False

    async def _on_conversation_update(self, context: TurnContext, body: dict[str, Any]) -> None:
        bot_id = (body.get("recipient") or {}).get("id")
        added = [member.get("id") for member in body.get("membersAdded") or []]
        if bot_id is None or bot_id not in added:
            return
        space = self._space(body)
        team = (body.get("channelData") or {}).get("team") or {}
        team_id = team.get("aadGroupId") or team.get("id")
        message = Message(text="", user=self._user(body), space=space, channel=Channel.TEAMS,
                          thread_id=(body.get("conversation") or {}).get("id", ""), raw=body)
        try:
            await self._runtime.store.record_space_joined(
                message, {"space": space.id, "kind": space.kind, "team": team_id})
        except Exception:
            log.exception("teams: could not record joining %s", space.id)
        locale = _locale(body.get("locale")) or "fr"
        card = welcome_card(self._runtime.assistant.router.skills,
                            team_id if space.kind == "channel" else None, locale)
        reference = TurnContext.get_conversation_reference(context.activity)
        self._spawn(reference, lambda ctx: self._send_card(ctx, card))

    # -- messages --------------------------------------------------------------------------

    def _user(self, body: dict[str, Any]) -> User:
        sender = body.get("from") or {}
        aad = sender.get("aadObjectId")
        return User(id=f"teams:{aad or sender.get('id', 'unknown')}", name=sender.get("name", ""),
                    locale=_locale(body.get("locale")), directory_id=aad)

    def _space(self, body: dict[str, Any]) -> Space:
        conversation = body.get("conversation") or {}
        kind = conversation.get("conversationType") or "personal"
        if kind == "channel":
            team = (body.get("channelData") or {}).get("team") or {}
            team_id = team.get("aadGroupId") or team.get("id") or conversation.get("id", "")
            return Space(id=f"teams:{team_id}", kind="channel", name=team.get("name", ""))
        if kind == "groupChat":
            return Space(id=f"teams:chat:{conversation.get('id', '')}", kind="group",
                         name=conversation.get("name") or "")
        return Space(id=f"teams:personal:{self._user(body).id.removeprefix('teams:')}")

    def _message(self, body: dict[str, Any], *, mentioned: bool = False) -> Message | None:
        space = self._space(body)
        text, at_bot = _strip_bot_mention(body)
        if space.kind != "personal" and not (mentioned or at_bot):
            return None  # channels and group chats: only when @mentioned
        downloads, others = file_parts(body)
        return Message(
            text=text, user=self._user(body), space=space, channel=Channel.TEAMS,
            thread_id=(body.get("conversation") or {}).get("id", ""),
            locale=_locale(body.get("locale")),
            raw={_UNREADABLE: others, _DOWNLOADS: downloads, **body})

    async def _answer(self, context: TurnContext, message: Message, body: dict[str, Any],
                      kept: _Kept | None = None) -> None:
        started = time.monotonic()
        await self._send_safely(context, Activity(type=ActivityTypes.typing))
        locale = self._runtime.assistant.locale_of(message)
        form = await find_form(self._runtime.assistant.router, message, locale)
        if form is not None:
            await self._send_card(context, template_form_card(form, locale))
            return
        message = dataclasses.replace(message, reference=message_reference(context))
        raw = message.raw if isinstance(message.raw, dict) else {}
        unreadable = int(raw.get(_UNREADABLE, 0))
        if self._channel_files is not None and message.space.kind == "channel" \
                and mentions_files(body):
            read = await self._with_channel_files(context, message, body, locale)
            if read is None:
                return
            if read.attachments:
                message, unreadable = read, 0
        if unreadable:
            log.info("teams: %d attachment(s) not readable in %s", unreadable, message.space.id)
            await self._send_text(context, CHANNEL_FILES(locale))
            if not message.text.strip() and not raw.get(_DOWNLOADS):
                return
        if raw.get(_DOWNLOADS):
            with_files = await self._with_files(context, message, raw[_DOWNLOADS], locale)
            if with_files is None:
                return
            message = with_files
        stale = kept.stale() if kept is not None else None
        stream = (Stream(self._connector, context, self._stream_interval, self._noting(kept))
                  if message.space.kind == "personal" and stale is None else None)
        final: Reply | None = None
        text = ""
        async for event in self._runtime.assistant.respond(message):
            if isinstance(event, Delta):
                text += event.text
                if stream is not None:
                    await stream.chunk(text)
            elif isinstance(event, Progress):
                if stream is not None:
                    await stream.inform(event.text)
            else:
                final = event
        assert final is not None
        log.info("teams: answered %s in %.2fs", message.space.kind, time.monotonic() - started)
        await self._deliver(context, final, stream, stale)

    def _noting(self, kept: _Kept | None) -> Callable[[str], Awaitable[None]] | None:
        """What a stream does once open: note its id beside the kept message, so that a
        replica answering it again puts its answer in place of this stream's message. The
        note is written in the background: waiting for it delayed the first streamed chunk
        by ~150 ms in a burst of 50 conversations (``bench/teams_latency.py``, SQLite)."""
        if kept is None:
            return None

        async def opened(stream_id: str) -> None:
            kept.payload = {**kept.payload, "stream": stream_id, "stream_at": time.time()}
            await self._runtime.inbox.note(kept.entry, kept.user_id, kept.payload, wait=0)
        return opened

    async def _with_channel_files(self, context: TurnContext, message: Message,
                                  body: dict[str, Any], locale: Locale) -> Message | None:
        """The message with the files of its channel post (Graph); None after a refusal
        (told)."""
        intake, reader = self._runtime.intake, self._channel_files
        if intake is None or reader is None:
            await self._send_text(context, _unreadable_text(locale))
            return None
        try:
            async with aiohttp.ClientSession() as session:
                kept = await reader.receive(body, message, intake, session)
        except FileRejected as refusal:
            await self._send_text(context, refusal.message_for(locale))
            return None
        return dataclasses.replace(message, attachments=kept)

    async def _with_files(self, context: TurnContext, message: Message,
                          items: list[dict[str, Any]], locale: Locale) -> Message | None:
        """The message with its files kept as attachments; None after a refusal (told)."""
        intake = self._runtime.intake
        if intake is None:
            await self._send_text(context, _unreadable_text(locale))
            return None
        try:
            async with aiohttp.ClientSession() as session:
                kept = await receive_files(items, message, intake, self._settings.file_hosts,
                                           session)
        except FileRejected as refusal:
            await self._send_text(context, refusal.message_for(locale))
            return None
        return dataclasses.replace(message, attachments=kept)

    async def _deliver(self, context: TurnContext, reply: Reply, stream: Stream | None,
                       stale: StaleStream | None = None) -> None:
        """The final reply: a card when it helps, split under the size limit, polite on
        failure; in place of a ``stale`` stream's message when a dead replica left one."""
        pieces = split_text(inert_text(reply.text))
        last: dict[str, Any] | None = None
        texts = pieces
        if needs_card(reply):  # the card carries the text when it fits, else follows it
            last = answer_card(reply, include_text=len(pieces) == 1)
            texts = [] if len(pieces) == 1 else pieces
        final_entity = stream.final_entity() if stream is not None else None
        activities = [Activity(type=ActivityTypes.message, text=piece,
                               entities=[final_entity] if final_entity and last is None
                               and index == len(texts) - 1 else None)
                      for index, piece in enumerate(texts)]
        if last is not None:
            activities.append(_card_activity(last, final_entity))
        try:
            for index, activity in enumerate(activities):
                if index == 0 and stale is not None and await self._connector.replace(
                        context, activity, stale, self._stream_window):
                    continue
                await self._send_final(context, activity)
            for card in reply.cards:  # buttons and forms of the skill (bot.cards)
                await self._send(context, _card_activity(adaptive_card(card), None))
        except DeliveryError as error:
            log.error("teams: reply %s not delivered (status %s)", reply.turn_id, error.status)
            if error.status == 413 and len(texts) <= 1:
                await self._deliver_small(context, reply)
                return
            await self._send_safely(context, Activity(
                type=ActivityTypes.message, text=_failure_text(reply.locale)))

    async def _send_final(self, context: TurnContext, activity: Activity) -> None:
        """Send, and when a streaming ``final`` is refused, send it again as a plain message."""
        try:
            await self._send(context, activity)
        except DeliveryError as error:
            has_stream = any(isinstance(e, StreamInfo) for e in activity.entities or [])
            if not has_stream or error.status in (413, None):
                raise
            log.info("teams: stream final refused (%s); sending a plain message", error.status)
            activity.entities = None
            await self._send(context, activity)

    async def _deliver_small(self, context: TurnContext, reply: Reply) -> None:
        for piece in split_text(inert_text(reply.text), MAX_TEXT_BYTES // 4):
            await self._send_safely(context, Activity(type=ActivityTypes.message, text=piece))

    async def _send_text(self, context: TurnContext, text: str) -> None:
        await self._send_safely(context, Activity(type=ActivityTypes.message, text=text))

    async def _send_card(self, context: TurnContext, card: dict[str, Any]) -> None:
        await self._send_safely(context, _card_activity(card, None))

    async def _send_safely(self, context: TurnContext, activity: Activity) -> str | None:
        try:
            return await self._send(context, activity)
        except DeliveryError as error:
            log.error("teams: %s activity not delivered (status %s)", activity.type, error.status)
            return None

    async def _send(self, context: TurnContext, activity: Activity) -> str | None:
        return await self._connector.send(context, activity)


_TEMPLATE = "template"  # what an inbox entry keeps, besides plain messages
_ACTION = "action"


@dataclass(slots=True)
class _Kept:
    """A message's inbox entry and what it keeps. When ``new``, the entry is written beside
    the answer (``entry`` then holds the write, whose result is None if the inbox is
    unavailable)."""

    user_id: str
    payload: dict[str, Any]
    entry: Held = None
    new: bool = False

    def stale(self) -> StaleStream | None:
        """The stream a dead replica opened for this message, if it noted one."""
        stream, opened = self.payload.get("stream"), self.payload.get("stream_at")
        if isinstance(stream, str) and stream and isinstance(opened, int | float):
            return StaleStream(stream, float(opened))
        return None


def _unauthorized() -> web.Response:
    return web.json_response({"error": "unauthorized"}, status=401)


def _card_activity(card: dict[str, Any], entity: StreamInfo | None) -> Activity:
    return Activity(type=ActivityTypes.message,
                    attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
                    entities=[entity] if entity else None)


def _strip_bot_mention(body: dict[str, Any]) -> tuple[str, bool]:
    """The text without the bot's ``<at>`` mention, and whether the bot was mentioned."""
    text = body.get("text") or ""
    bot_id = (body.get("recipient") or {}).get("id")
    mentioned = False
    for entity in body.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        target, label = entity.get("mentioned"), entity.get("text")
        if isinstance(target, dict) and target.get("id") == bot_id:
            mentioned = True
            if isinstance(label, str) and label:
                text = text.replace(label, " ")
    text = re.sub(r"</?at>", "", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("\xa0", " ")
    return _BOT_MENTION_SPACES.sub(" ", text).strip(), mentioned


def _action_data(value: object) -> object:
    """``value.action.data`` of an ``adaptiveCard/action`` invoke, whatever ``value`` holds."""
    action = value.get("action") if isinstance(value, dict) else None
    return action.get("data") if isinstance(action, dict) else None


def _feedback_text(ok: bool, body: dict[str, Any]) -> str:
    fr = (_locale(body.get("locale")) or "fr") == "fr"
    if ok:
        return "Merci pour votre retour." if fr else "Thank you for your feedback."
    return ("Ce retour n'a pas pu être enregistré." if fr
            else "This feedback could not be recorded.")


def _unreadable_text(locale: Locale) -> str:
    return ("Je ne sais pas encore lire les pièces jointes envoyées dans Teams ; "
            "collez le texte dans votre message." if locale == "fr" else
            "I cannot read attachments sent in Teams yet; paste the text into your message.")


def _failure_text(locale: Locale) -> str:
    return ("Désolé, je n'ai pas pu afficher ma réponse ici. Réessayez dans un instant."
            if locale == "fr" else
            "Sorry, I could not show my answer here. Please try again in a moment.")
