"""Channel ``slack``: a Bolt ``AsyncApp`` on the shared aiohttp app (``POST /slack/events``).

The only module (with its ``slack_*`` helpers) that imports ``slack_bolt``/``slack_sdk``.
Every request's signature is checked on its raw bytes before any parsing (then by Bolt),
its shape checked, acknowledged at once, and answered from a
tracked background task: a placeholder message in the thread, throttled ``chat.update``
previews while the answer streams, then the Block Kit answer (split, never cut).
Slack retries are de-duplicated by ``event_id`` (Redis when configured). Messages and slash
commands are kept in the chat inbox (:mod:`bot.inbox`) until answered: another replica
answers them if this one dies first.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import inspect
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import ClientSession, TCPConnector, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_dedupe import Deduplicator, build_deduplicator
from adapters.slack_delivery import (
    Draft,
    Sink,
    ephemeral_sink,
    error_code,
    publish,
    response_url_sink,
    thread_sink,
)
from adapters.slack_files import SlackJobReporter, receive_files
from adapters.slack_kept import (
    Kept,
    Press,
    as_object,
    kept_command,
    kept_event,
    kept_press,
    press_of,
)
from adapters.slack_render import (
    CARD_ACTION,
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    TEMPLATE_FORM,
    assistant_prompts,
    card_action,
    escape,
    from_slack,
    modal_values,
    template_modal,
    text,
    thread_title,
    well_formed,
)
from bot.files.intake import FileRejected
from bot.i18n import detect_locale, t
from bot.messages import Channel, Delta, Locale, Message, Reply, Space, User
from bot.store.inbox import InboxEntry
from skills.template_syntax import command_text
from skills.templates import find_form

if TYPE_CHECKING:
    from adapters.slack_socket import SocketLink
    from bot.app import Runtime

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
_TIMESTAMP = re.compile(r"\d{1,12}")
_SIGNATURE_MAX_AGE_SECONDS = 300
_TURN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HANDLED_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
# errors meaning the workspace or app cannot stream at all (stop trying)
_STREAMING_UNSUPPORTED = frozenset({"unknown_method", "not_allowed_token_type", "missing_scope",
                                    "feature_not_enabled", "not_allowed", "method_deprecated"})
# what a template modal remembers of its slash command (private_metadata)
_FORM_CONTEXT = ("team_id", "channel_id", "channel_name", "user_id", "user_name", "response_url")


class SlackAdapter:
    """Slack events, slash commands and buttons, over HTTP (and Socket Mode when enabled)."""

    name = "slack"

    def __init__(
        self,
        runtime: Runtime,
        *,
        deduplicator: Deduplicator | None = None,
        update_interval_seconds: float = 1.0,
        welcome_locale: Locale = "fr",
        shutdown_grace_seconds: float = 10.0,
        max_retries: int = 3,
    ) -> None:
        settings = runtime.settings.slack
        assert settings.bot_token is not None, "SlackAdapter needs settings.slack.bot_token"
        self._runtime = runtime
        self._assistant = runtime.assistant
        self._settings = settings
        self._dedupe = deduplicator or build_deduplicator(runtime.settings.redis_url)
        self._interval = update_interval_seconds
        self._streaming = runtime.settings.slack.streaming
        self._welcome_locale = welcome_locale
        self._grace = shutdown_grace_seconds
        self._retry_handlers = [
            AsyncRateLimitErrorRetryHandler(max_retry_count=max_retries),
            AsyncServerErrorRetryHandler(max_retry_count=max_retries),
            AsyncConnectionErrorRetryHandler(max_retry_count=max_retries),
        ]
        self.client = AsyncWebClient(
            token=settings.bot_token.get_secret_value(),
            base_url=settings.api_url,
            retry_handlers=list(self._retry_handlers),
        )
        if runtime.files is not None:
            runtime.reporters[self.name] = SlackJobReporter(self.client, runtime.files)
        runtime.inbox.register(self.name, self)  # messages a dead replica left unanswered
        self._tasks: set[asyncio.Task[None]] = set()
        self._auth: AuthorizeResult | None = None
        self._auth_lock = asyncio.Lock()
        self.socket: SocketLink | None = None  # Socket Mode's link, once started
        secret = settings.signing_secret
        self._http_enabled = secret is not None
        # Socket-only mode: the HTTP route is not mounted; an unguessable secret keeps
        # Bolt's signature verification on regardless.
        signing_secret = secret.get_secret_value() if secret else secrets.token_hex(32)
        self._signing_secret = signing_secret.encode()
        self.bolt = AsyncApp(
            name="almia",
            signing_secret=signing_secret,
            client=self.client,
            authorize=_plain(self._authorize),
            request_verification_enabled=True,
        )
        self._register()

    @property
    def busy(self) -> int:
        """How many background replies are still running."""
        return len(self._tasks)

    # -- wiring ---------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        """Add ``POST /slack/events`` and the start-up/clean-up hooks."""
        if self._http_enabled:
            app.router.add_post(EVENTS_PATH, self._events)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)

    def _register(self) -> None:
        """Bolt injects listener arguments by parameter name, so bound methods are wrapped."""
        bolt = self.bolt
        bolt.event("app_mention")(_plain(self._on_mention))
        bolt.event("message")(_plain(self._on_message))
        bolt.event("member_joined_channel")(_plain(self._on_member_joined))
        bolt.event("assistant_thread_started")(_plain(self._on_assistant_thread))
        bolt.event(re.compile(".*"))(_plain(self._on_other_event))
        bolt.command("/almia")(_plain(self._on_almia))
        bolt.command("/template")(_plain(self._on_template))
        bolt.view(TEMPLATE_FORM)(_plain(self._on_template_form))
        bolt.action(FEEDBACK_UP)(_plain(self._on_feedback))
        bolt.action(FEEDBACK_DOWN)(_plain(self._on_feedback))
        bolt.action(re.compile(f"^{CARD_ACTION}"))(_plain(self._on_card_button))
        bolt.action(re.compile(".*"))(_plain(self._on_other_action))

    async def _on_startup(self, _app: web.Application) -> None:
        self.client.session = ClientSession(connector=TCPConnector(limit=100))
        if self._settings.socket_mode and self._settings.app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            from adapters.slack_socket import SocketLink

            self.socket = SocketLink(AsyncSocketModeHandler(
                self.bolt, self._settings.app_token.get_secret_value()))
            self.socket.start()  # in the background: start-up never waits on Slack

    async def _on_cleanup(self, _app: web.Application) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=self._grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._dedupe.close()
        if self.client.session is not None:
            await self.client.session.close()

    async def _events(self, request: web.Request) -> web.Response:
        """The v0 signature is checked on the raw bytes before anything is parsed; a signed
        body that is not a Slack payload is refused (400); Bolt then dispatches (and checks
        the signature again)."""
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not _TIMESTAMP.fullmatch(timestamp) or not signature:
            return web.json_response({"error": "invalid request"}, status=401)
        raw = await request.read()
        if not _signed(self._signing_secret, raw, timestamp, signature):
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            body = raw.decode("utf-8")
            payload = parse_body(body, request.content_type)
        except (ValueError, RecursionError):  # bad UTF-8 or JSON, integers over the limit
            return web.json_response({"error": "malformed body"}, status=400)
        if not well_formed(payload):
            log.info("Slack payload of an unexpected shape refused")
            return web.json_response({"error": "malformed payload"}, status=400)
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string,
                                        headers=dict(request.headers))
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    async def _authorize(self, client: AsyncWebClient) -> AuthorizeResult:
        """Single workspace: ``auth.test`` once per process, shared by concurrent requests."""
        if self._auth is None:
            async with self._auth_lock:
                if self._auth is None:
                    assert self._settings.bot_token is not None
                    response = await client.auth_test()
                    self._auth = AuthorizeResult.from_auth_test_response(
                        bot_token=self._settings.bot_token.get_secret_value(),
                        auth_test_response=response,
                    )
        return self._auth

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack task failed", exc_info=task.exception())

    # -- listeners (Bolt has already acknowledged events) -----------------------------------

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any],
                          context: dict[str, Any]) -> None:
        self._spawn(self._answer_event(body, event, context.get("bot_user_id")))

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any],
                          context: dict[str, Any]) -> None:
        if event.get("channel_type") == "im":
            self._spawn(self._answer_event(body, event, context.get("bot_user_id")))

    async def _on_other_event(self, body: dict[str, Any]) -> None:
        log.debug("Slack event %s ignored", body.get("event", {}).get("type"))

    async def _on_other_action(self, ack: Callable[..., Awaitable[Any]]) -> None:
        await ack()

    async def _on_member_joined(self, body: dict[str, Any], event: dict[str, Any],
                                context: dict[str, Any]) -> None:
        if event.get("user") and event.get("user") == context.get("bot_user_id"):
            self._spawn(self._welcome(body, event))

    async def _on_assistant_thread(self, event: dict[str, Any]) -> None:
        """Someone opened Almia's assistant pane (Slack's AI app view): a title and prompts
        that show what Almia does; the messages of that thread are direct messages."""
        thread = as_object(event.get("assistant_thread"))
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not (isinstance(channel, str) and isinstance(thread_ts, str)):
            log.info("Slack assistant thread without channel or thread ignored")
            return
        person = thread.get("user_id")
        locale = (await self._person_locale(person) if isinstance(person, str) else None
                  ) or self._welcome_locale
        await self._call("assistant_threads_setSuggestedPrompts", channel_id=channel,
                         thread_ts=thread_ts, title=text("assistant_title", locale),
                         prompts=assistant_prompts(locale))

    async def _person_locale(self, user: str) -> Locale | None:
        """French or English from the person's Slack language (``users.info``, scope
        ``users:read``); None when Slack does not say (scope not granted: the workspace's)."""
        try:
            response = await self.client.users_info(user=user, include_locale=True)
        except SlackApiError as error:
            log.info("Slack language of a member unknown (%s): the workspace's is used",
                     error_code(error))
            return None
        except Exception:
            log.exception("Slack users.info failed")
            return None
        member = response.get("user")
        language = str(member.get("locale") or "") if isinstance(member, dict) else ""
        return "en" if language.startswith("en") else "fr" if language.startswith("fr") else None

    async def _on_template(self, ack: Callable[..., Awaitable[Any]],
                           command: dict[str, Any]) -> None:
        """``/template …``: a modal when variables are missing, else the skill's answer."""
        words = command.get("text", "").strip()
        locale = detect_locale(words)
        form = await find_form(self._assistant.router,
                               self._command_message(command, words, "template"), locale)
        if form is None or not command.get("trigger_id"):
            await ack(response_type="ephemeral", text=text("working", locale))
            self._spawn(self._answer_command(command, words or "help", "template"))
            return
        await ack()
        metadata = json.dumps({key: command.get(key, "") for key in _FORM_CONTEXT}
                              | {"name": form.name, "version": form.version})
        await self._call("views_open", trigger_id=command["trigger_id"],
                         view=template_modal(form, metadata, locale))

    async def _on_template_form(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any],
                                view: dict[str, Any]) -> None:
        """A submitted template modal runs ``/template use NAME@version var=…``."""
        await ack()
        context = as_object(view.get("private_metadata"))
        version = str(context.get("version") or "0")
        if not context.get("name") or not version.isdigit():
            log.info("Slack template form without context ignored")
            return
        user = as_object(body.get("user"))
        command = {key: str(context.get(key, "")) for key in _FORM_CONTEXT}
        command.update(user_id=str(user.get("id") or command["user_id"]),
                       trigger_id=f"view:{view.get('id', '')}:{view.get('hash', '')}")
        words = command_text(str(context["name"]), int(version) or None,
                             modal_values(as_object(view.get("state"))))
        self._spawn(self._answer_command(command, words, "template"))

    async def _on_almia(self, ack: Callable[..., Awaitable[Any]],
                        command: dict[str, Any]) -> None:
        question = command.get("text", "").strip()
        locale = detect_locale(question)
        await ack(response_type="ephemeral", text=text("working", locale))
        self._spawn(self._answer_command(command, question or "aide"))

    async def _on_feedback(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any],
                           action: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._record_feedback(body, action))

    async def _on_card_button(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any],
                              action: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._answer_card(body, action))

    # -- work ------------------------------------------------------------------------------

    async def _answer_event(self, body: dict[str, Any], event: dict[str, Any],
                            bot_user_id: str | None) -> None:
        if event.get("bot_id") or event.get("subtype") not in _HANDLED_SUBTYPES:
            return
        team = str(body.get("team_id") or event.get("team") or "")
        channel, user, ts = event.get("channel"), event.get("user"), event.get("ts")
        if not (team and channel and user and ts) or user == bot_user_id:
            return
        event_id = body.get("event_id")
        if not await self._first_time(event_id, f"msg:{team}:{channel}:{ts}"):
            log.info("Slack event %s already taken (a retry or a second delivery)", event_id)
            return
        log.info("Slack event %s taken by this process", event_id)
        inbox = self._runtime.inbox
        kept = {"team": team, "event": event, "bot": bot_user_id}
        entry = inbox.keep(self.name, f"slack:{team}:{user}", kept)  # beside the answer
        await inbox.answering(entry, self._answer_message(team, event, bot_user_id,
                                                          Kept(entry, kept)))

    def resume(self, entry: InboxEntry) -> None:
        """Answer a message another replica acknowledged and did not answer; its progress
        message, if it posted one, is removed first. A card button it left is not pressed
        again (it may have taken effect): its presser is told."""
        if self._resume_other(entry):
            return
        team, event, bot = kept_event(entry)
        if not (team and event.get("channel") and event.get("user") and event.get("ts")):
            log.warning("Slack inbox entry %s holds no answerable message", entry.id)
            self._spawn(self._runtime.inbox.forget(entry.id))
            return
        kept = Kept(entry.id, dict(entry.payload or {}))
        self._spawn(self._runtime.inbox.answering(
            entry.id, self._answer_message(team, event, bot, kept)))

    def give_up(self, entry: InboxEntry) -> None:
        """Tell the asker, in their thread (privately for a command), that their message was
        not answered."""
        if self._resume_other(entry, apologise=True):
            return
        team, event, bot = kept_event(entry)
        if not (team and event.get("channel") and event.get("ts")):
            self._spawn(self._runtime.inbox.forget(entry.id))
            return
        kept = Kept(entry.id, dict(entry.payload or {}))
        self._spawn(self._runtime.inbox.answering(
            entry.id, self._apologise(team, event, bot, kept)))

    def _resume_other(self, entry: InboxEntry, *, apologise: bool = False) -> bool:
        """Take up a kept slash command or button press; False for an event."""
        inbox = self._runtime.inbox
        command = kept_command(entry)
        if command is not None:
            self._spawn(inbox.answering(entry.id, self._apologise_privately(*command[:2])
                                        if apologise else self._answer_taken_command(*command)))
            return True
        pressed = kept_press(entry)
        if pressed is None:
            return False
        body, action = pressed
        press = press_of(body, card_action(action, as_object(body.get("state"))), action)
        if press is None:
            log.warning("Slack inbox entry %s holds no answerable press", entry.id)
            self._spawn(inbox.forget(entry.id))
            return True
        kept = Kept(entry.id, dict(entry.payload or {}))
        self._spawn(inbox.answering(entry.id, self._tell_interrupted(press, kept)))
        return True

    def _event_message(self, team: str, event: dict[str, Any],
                       bot_user_id: str | None) -> Message:
        channel, user, ts = str(event.get("channel")), str(event.get("user")), event.get("ts")
        thread_ts = str(event.get("thread_ts") or ts)
        channel_type = event.get("channel_type")
        kinds: dict[str, Literal["personal", "group"]] = {"im": "personal", "mpim": "group"}
        kind: Literal["personal", "group", "channel"] = kinds.get(str(channel_type), "channel")
        return Message(
            text=from_slack(str(event.get("text", "")), bot_user_id),
            user=User(id=f"slack:{team}:{user}", directory_id=user),
            space=Space(id=f"slack:{team}:{channel}", kind=kind),
            channel=Channel.SLACK,
            thread_id=thread_ts,
            raw=event,
            reference={"channel": channel, "thread_ts": thread_ts},
        )

    async def _answer_message(self, team: str, event: dict[str, Any], bot_user_id: str | None,
                              kept: Kept) -> None:
        message = self._event_message(team, event, bot_user_id)
        channel, thread_ts = message.reference["channel"], message.thread_id
        await self._remove_stale(channel, kept)
        shared = event.get("files")
        if isinstance(shared, list) and shared:
            with_files = await self._with_files(message, shared, channel, thread_ts)
            if with_files is None:
                return
            message = with_files
        await self._converse(message, channel, thread_ts, str(event.get("user")), kept)

    async def _apologise(self, team: str, event: dict[str, Any], bot_user_id: str | None,
                         kept: Kept) -> None:
        message = self._event_message(team, event, bot_user_id)
        await self._remove_stale(message.reference["channel"], kept)
        await self._call("chat_postMessage", channel=message.reference["channel"],
                         thread_ts=message.thread_id,
                         text=t("not_answered", self._assistant.locale_of(message)))

    async def _with_files(self, message: Message, shared: list[Any], channel: str,
                          thread_ts: str) -> Message | None:
        """The message with its shared files kept as attachments; None after a refusal
        (told in the thread)."""
        intake = self._runtime.intake
        locale = self._assistant.locale_of(message)
        if intake is None:
            await self._call("chat_postMessage", channel=channel, thread_ts=thread_ts,
                             text=text("files_disabled", locale))
            return None
        token = self._settings.bot_token.get_secret_value() if self._settings.bot_token else ""
        try:
            async with ClientSession() as session:
                kept = await receive_files([item for item in shared if isinstance(item, dict)],
                                           message, intake, token=token,
                                           api_url=self._settings.api_url, session=session)
        except FileRejected as refusal:
            await self._call("chat_postMessage", channel=channel, thread_ts=thread_ts,
                             text=refusal.message_for(locale))
            return None
        return dataclasses.replace(message, attachments=kept)

    async def _start_stream(self, message: Message, channel: str, thread_ts: str,
                            user: str) -> str | None:
        """A streamed message in the thread, or None (streaming off or refused: fall back)."""
        if not self._streaming:
            return None
        team = message.space.id.split(":")[1] if message.space.id.count(":") >= 2 else None
        try:
            response = await self.client.chat_startStream(
                channel=channel, thread_ts=thread_ts, recipient_team_id=team,
                recipient_user_id=user)
        except SlackApiError as error:
            reason = error_code(error)
            if reason in _STREAMING_UNSUPPORTED:
                log.warning("Slack streaming unavailable (%s): using message updates", reason)
                self._streaming = False
            else:
                log.warning("chat.startStream failed (%s): using message updates", reason)
            return None
        ts = response.get("ts")
        return str(ts) if ts else None

    async def _show_status(self, message: Message, channel: str, thread_ts: str) -> bool:
        """« Almia réfléchit… » under a thread of the assistant pane (no placeholder message);
        False elsewhere: Slack refuses a status outside an assistant thread."""
        if message.space.kind != "personal" or not message.raw.get("thread_ts"):
            return False
        try:
            await self.client.assistant_threads_setStatus(
                channel_id=channel, thread_ts=thread_ts,
                status=text("status", self._assistant.locale_of(message)))
        except SlackApiError as error:  # a thread of the Messages tab, or no assistant:write
            log.info("Slack assistant status not shown (%s): placeholder instead",
                     error_code(error))
            return False
        except Exception:
            log.exception("Slack assistant.threads.setStatus failed")
            return False
        return True

    async def _first_preview(self, draft: Draft, message: Message, channel: str,
                             thread_ts: str, kept: Kept | None) -> str | None:
        """The answer's first words posted under the status (which they clear); its ts."""
        shown = draft.preview("")
        if shown is None:
            return None
        posted = await self._call("chat_postMessage", channel=channel, thread_ts=thread_ts,
                                  text=shown, unfurl_links=False, unfurl_media=False)
        ts = str(posted["ts"]) if posted and posted.get("ts") else None
        if kept is not None and ts:
            await self._runtime.inbox.note(kept.entry, message.user.id,
                                           {**kept.payload, "placeholder": ts})
        return ts

    async def _first_time(self, *keys: object) -> bool:
        """Claim the non-empty keys together; a repeat of any of them means a duplicate."""
        return await self._dedupe.claim(*(str(key) for key in keys if key))

    async def _apologise_privately(self, command: dict[str, Any], question: str) -> None:
        locale = self._assistant.locale_of(self._command_message(command, question, "almia"))
        notice = Reply(text=t("not_answered", locale), locale=locale, kind="error")
        url = command.get("response_url")
        sink = (response_url_sink(self._retry_handlers, str(url)) if url else
                ephemeral_sink(self.client, str(command.get("channel_id", "")),
                               str(command.get("user_id", "")), None))
        await publish(notice, sink)

    async def _remove_stale(self, channel: str, kept: Kept) -> None:
        """Delete the progress message a dead replica left in the thread."""
        stale = kept.payload.get("placeholder")
        if stale:
            await self._call("chat_delete", channel=channel, ts=str(stale))

    async def _converse(self, message: Message, channel: str, thread_ts: str,
                        user: str, kept: Kept | None = None) -> None:
        """Progress at once, the answer streamed (or throttled previews), then the final answer."""
        locale = self._assistant.locale_of(message)
        stream_ts = await self._start_stream(message, channel, thread_ts, user)
        status = stream_ts is None and await self._show_status(message, channel, thread_ts)
        placeholder_ts: str | None = stream_ts
        if stream_ts is None and not status:
            placeholder = await self._call("chat_postMessage", channel=channel,
                                           thread_ts=thread_ts, text=text("placeholder", locale),
                                           unfurl_links=False, unfurl_media=False)
            placeholder_ts = placeholder.get("ts") if placeholder else None
        if kept is not None and placeholder_ts:
            await self._runtime.inbox.note(kept.entry, message.user.id,
                                           {**kept.payload, "placeholder": placeholder_ts})
        draft = Draft(interval=self._interval)
        final: Reply | None = None
        async for event in self._assistant.respond(message):
            if isinstance(event, Reply):
                final = event
                continue
            if isinstance(event, Delta):
                draft.add(event.text)
            if not draft.due():
                continue
            if placeholder_ts is None:
                if status and isinstance(event, Delta):  # the status gives way to the text
                    placeholder_ts = await self._first_preview(draft, message, channel,
                                                               thread_ts, kept)
                continue
            if stream_ts is not None:
                pending = draft.take_pending()
                if pending:
                    await self._call("chat_appendStream", channel=channel, ts=stream_ts,
                                     markdown_text=escape(pending))
                continue
            shown = draft.preview(event.text)
            if shown is not None:
                await self._call("chat_update", channel=channel, ts=placeholder_ts, text=shown)
        if stream_ts is not None:
            pending = draft.take_pending()
            if pending:
                await self._call("chat_appendStream", channel=channel, ts=stream_ts,
                                 markdown_text=escape(pending))
            await self._call("chat_stopStream", channel=channel, ts=stream_ts)
        assert final is not None
        if final.ephemeral:
            if placeholder_ts:
                await self._call("chat_delete", channel=channel, ts=placeholder_ts)
            elif status:  # nothing will be posted in the thread to clear it
                await self._call("assistant_threads_setStatus", channel_id=channel,
                                 thread_ts=thread_ts, status="")
            sink = ephemeral_sink(self.client, channel, user, thread_ts)
        else:
            sink = thread_sink(self.client, channel, thread_ts, placeholder_ts)
        await publish(final, sink)
        if status and final.skill != "charter":
            await self._title_thread(message, channel, thread_ts)

    async def _title_thread(self, message: Message, channel: str, thread_ts: str) -> None:
        """An assistant thread's first question names it in the pane's history (Slack
        shows « New chat » otherwise); later questions leave the title alone."""
        if await self._dedupe.claim(f"assistant-title:{channel}:{thread_ts}"):
            await self._call("assistant_threads_setTitle", channel_id=channel,
                             thread_ts=thread_ts, title=thread_title(message.text))

    @staticmethod
    def _command_message(command: dict[str, Any], question: str, name: str) -> Message:
        team, channel = command.get("team_id", ""), command.get("channel_id", "")
        user = command.get("user_id", "")
        is_dm = str(channel).startswith("D")
        return Message(
            text=question,
            user=User(id=f"slack:{team}:{user}", name=command.get("user_name", ""),
                      directory_id=user),
            space=Space(id=f"slack:{team}:{channel}", kind="personal" if is_dm else "channel",
                        name=command.get("channel_name", "")),
            channel=Channel.SLACK,
            thread_id=f"command:{channel}:{user}",
            command=name,
            raw=command,
            reference={"channel": str(channel)},
        )

    async def _answer_command(self, command: dict[str, Any], question: str,
                              name: str = "almia") -> None:
        if not await self._first_time(command.get("trigger_id")):
            return
        inbox = self._runtime.inbox
        kept = {"command": command, "question": question, "name": name}
        user = f"slack:{command.get('team_id', '')}:{command.get('user_id', '')}"
        await inbox.answering(inbox.keep(self.name, user, kept),
                              self._answer_taken_command(command, question, name))

    async def _answer_taken_command(self, command: dict[str, Any], question: str,
                                    name: str) -> None:
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        message = self._command_message(command, question, name)
        reply = await self._assistant.answer(message)
        url = command.get("response_url")
        if url:
            await publish(reply, response_url_sink(self._retry_handlers, str(url)))
        else:
            await publish(reply, ephemeral_sink(self.client, channel, user, None))

    async def _answer_card(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A card button (``bot.cards``): the named skill answers in the card's thread, or
        in place of an ephemeral card. Kept in the inbox until answered: if this replica
        dies first, another tells the presser (a press is not repeated: it may have taken
        effect)."""
        press = press_of(body, card_action(action, as_object(body.get("state"))), action)
        if press is None:
            log.info("Slack card action without its context ignored")
            return
        if not await self._first_time(
                f"card:{press.team}:{press.user}:{action.get('action_ts', '')}"):
            return
        inbox = self._runtime.inbox
        kept = {"card": body, "action": action}
        entry = inbox.keep(self.name, press.message.user.id, kept)  # beside the answer
        await inbox.answering(entry, self._answer_press(press, Kept(entry, kept)))

    async def _answer_press(self, press: Press, kept: Kept) -> None:
        if press.ephemeral or not press.thread_ts:
            reply = await self._assistant.answer(press.message)
            await publish(reply, self._press_sink(press))
            return
        await self._converse(press.message, press.channel, press.thread_ts, press.user, kept)

    def _press_sink(self, press: Press) -> Sink:
        """Where a press on an ephemeral card (or one outside a thread) is answered."""
        if press.ephemeral or not press.thread_ts:
            return (response_url_sink(self._retry_handlers, press.response_url)
                    if press.response_url
                    else ephemeral_sink(self.client, press.channel, press.user,
                                        press.thread_ts or None))
        return thread_sink(self.client, press.channel, press.thread_ts, None)

    async def _tell_interrupted(self, press: Press, kept: Kept) -> None:
        """A press a dead replica left: its presser is told to check before pressing again."""
        if press.thread_ts and not press.ephemeral:
            await self._remove_stale(press.channel, kept)
        locale = self._assistant.locale_of(press.message)
        notice = Reply(text=t("action_interrupted", locale, label=press.label), locale=locale,
                       kind="error")
        await publish(notice, self._press_sink(press))
        await self._assistant.presses.release(press.message)  # it may be pressed again now

    async def _record_feedback(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        turn_id = str(action.get("value", ""))
        member, message = as_object(body.get("user")), as_object(body.get("message"))
        user = str(member.get("id") or "")
        team = as_object(body.get("team")).get("id") or member.get("team_id", "")
        if not _TURN_ID.fullmatch(turn_id) or not user:
            return
        value = 1 if action.get("action_id") == FEEDBACK_UP else -1
        stored = await self._assistant.store.record_feedback(turn_id, f"slack:{team}:{user}", value)
        channel = as_object(body.get("channel")).get("id")
        if stored and channel:
            thread_ts = message.get("thread_ts")
            locale = detect_locale(str(message.get("text") or ""))
            await self._call("chat_postEphemeral", channel=channel, user=user,
                             thread_ts=thread_ts, text=t("feedback_thanks", locale))

    async def _welcome(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        team = str(body.get("team_id") or event.get("team") or "")
        channel = str(event.get("channel", ""))
        if not await self._first_time(body.get("event_id"), f"join:{team}:{channel}"):
            return
        space = f"slack:{team}:{channel}"
        commands = ", ".join(f"/almia {skill.commands[0]}"
                             for skill in self._assistant.router.skills if skill.commands)
        await self._call("chat_postMessage", channel=channel,
                         text=text("welcome", self._welcome_locale, commands=commands,
                                   space=space))
        inviter = str(event.get("inviter") or "")
        message = Message(
            text="", user=User(id=f"slack:{team}:{inviter or event.get('user', '')}"),
            space=Space(id=space, kind="channel"), channel=Channel.SLACK, thread_id=channel,
        )
        await self._assistant.store.record_space_joined(
            message, {"team_id": team, "channel_id": channel, "inviter": inviter or None}
        )

    # -- delivery --------------------------------------------------------------------------

    async def _call(self, method: str, **arguments: Any) -> dict[str, Any] | None:
        """One Web API call (429/5xx retried by the client); failures are logged, not raised."""
        try:
            response = await getattr(self.client, method)(**arguments)
        except SlackApiError as error:
            log.warning("Slack %s failed: %s", method, error_code(error))
            return None
        except Exception:
            log.exception("Slack %s failed", method)
            return None
        return dict(response.data) if isinstance(response.data, dict) else {}

def _plain(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A function with the method's parameters minus ``self`` (what Bolt can introspect)."""
    names = list(inspect.signature(method).parameters)

    async def call(**arguments: Any) -> Any:
        return await method(**{name: arguments[name] for name in names})

    call.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    call.__name__ = method.__name__
    return call


def _signed(secret: bytes, raw: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature of the raw body, within five minutes (constant-time compare)."""
    if abs(time.time() - int(timestamp)) > _SIGNATURE_MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
    return hmac.compare_digest(f"v0={digest.hexdigest()}".encode(),
                               signature.encode("utf-8", "replace"))


__all__: Sequence[str] = ("EVENTS_PATH", "SlackAdapter")
