"""``build_app(settings)``: the single place where Almia is wired together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web

from bot.assistant import Assistant, AssistantLimits
from bot.files.links import LinkSigner, load_link_secret
from bot.files.service import FileClassifier, FileIntake
from bot.gateway.llm import ModelGateway, ModelProvider, UsageRecord, default_providers
from bot.governance.crypto import private_directory
from bot.governance.directory import DirectoryUnavailable, build_directory
from bot.governance.dlp import Detector, DlpUnavailable
from bot.governance.policy import Policy, PolicyError, load_policy
from bot.governance.quotas import CounterStore, MemoryCounters, Quotas, RedisCounters
from bot.governance.roles import DirectoryGroups, RoleResolver
from bot.http_edge import install as install_edge
from bot.inbox import ChatInbox
from bot.jobs.engine import JobEngine, build_engine
from bot.jobs.model import JobReporter, JobView
from bot.jobs.runner import JobRunner
from bot.jobs.service import JobService
from bot.ops.keys import build_key_provider
from bot.ops.wiring import install as install_ops
from bot.pending import RedisPendingQuestions
from bot.presses import RedisPresses
from bot.routing import SkillRouter
from bot.settings import Settings, process_environment
from bot.skills import Skill, job_tasks
from bot.store import Store
from bot.store.campaigns import CampaignStore
from bot.store.files import FileStore
from bot.store.inbox import InboxStore
from bot.store.jobs import JobStore
from bot.store.templates import TemplateStore
from knowledge import KnowledgeBase
from skills import DEFAULT_SKILL, SkillServices, build_skills
from skills.campaigns.notices import PersonalChats
from skills.campaigns.skill import CampaignServices

log = logging.getLogger(__name__)


class ChannelAdapter(Protocol):
    """A channel plugged into the HTTP server (web chat, Slack, Teams)."""

    name: str

    def mount(self, app: web.Application) -> None:
        """Add the channel's routes and start-up/clean-up hooks to ``app``."""
        ...


@dataclass
class Runtime:
    """Everything a channel needs, built once per process."""

    settings: Settings
    policy: Policy
    store: Store
    knowledge: KnowledgeBase
    gateway: ModelGateway
    assistant: Assistant
    roles: RoleResolver
    inbox: ChatInbox  # Slack and Teams messages kept until answered
    detector: Detector | None = None
    adapters: list[ChannelAdapter] = field(default_factory=list)
    files: FileStore | None = None
    intake: FileIntake | None = None
    jobs: JobService | None = None
    runner: JobRunner | None = None
    engine: JobEngine | None = None
    reporters: dict[str, JobReporter] = field(default_factory=dict)  # channel → reporter

    async def start(self, *, jobs: bool = True) -> None:
        """Prepare storage (migrations), start running jobs (unless ``jobs`` is False) and,
        when models outside the company may be used, load the personal-data detector now
        rather than on the first request."""
        await self.store.migrate()
        if jobs and self.engine is not None:
            await self.engine.start()
        external = any(entry.hosting == "external" for entry in self.policy.models)
        if self.detector is not None and external:
            try:
                await asyncio.to_thread(self.detector.warm_up)
            except DlpUnavailable:
                log.exception("personal-data detection unavailable: external calls will be "
                              "refused until it loads")

    async def apply_retention(self) -> None:
        """Erase conversation content older than the policy's ``retention_days``, daily."""
        days = self.policy.retention_days
        if days is None:
            return
        while True:
            try:
                removed = await self.store.purge(older_than=datetime.now(UTC) - timedelta(days=days))
                log.info("retention: removed %s", removed)
            except Exception:
                log.exception("retention purge failed; next try in an hour")
                await asyncio.sleep(3600)
                continue
            await asyncio.sleep(86_400)

    async def expire_files(self) -> None:
        """Erase uploads and artefacts past their retention, hourly (every replica may)."""
        if self.files is None:
            return
        while True:
            try:
                removed = await self.files.delete(expired=True)
                if removed:
                    log.info("files: %d expired file(s) erased", removed)
            except Exception:
                log.exception("erasing expired files failed; next try in an hour")
            await asyncio.sleep(3600)

    async def warm_knowledge(self) -> None:
        """Prepare the search indexes in the background after start-up."""
        try:
            await self.knowledge.warm_up()
        except Exception:
            log.exception("warming the knowledge indexes failed; they will build on first use")

    async def close(self) -> None:
        """Release connections and handles (running jobs are handed back to the queue)."""
        if self.engine is not None:
            await self.engine.close()
        await self.gateway.close()
        await self.assistant.pending.close()
        await self.assistant.presses.close()
        await self.store.close()
        self.knowledge.close()


RUNTIME = web.AppKey("runtime", Runtime)
AdapterFactory = Callable[[Runtime], ChannelAdapter]


def enabled_adapters(settings: Settings) -> list[AdapterFactory]:
    """The channels the settings turn on (each SDK is imported only when its channel is on)."""
    factories: list[AdapterFactory] = []
    if settings.web.enabled:
        from adapters.web import WebChatAdapter

        factories.append(lambda runtime: WebChatAdapter(runtime.assistant, runtime.settings.web))
    if settings.slack.enabled:
        from adapters.slack import SlackAdapter

        factories.append(SlackAdapter)
    elif settings.slack.missing is not None:  # half a configuration: say why Slack is off
        log.warning("Slack is off: set %s", settings.slack.missing)
    if settings.teams.enabled:
        from adapters.teams import TeamsAdapter

        factories.append(TeamsAdapter)
    return factories


def build_runtime(
    settings: Settings,
    *,
    providers: Mapping[str, ModelProvider] | None = None,
    knowledge: KnowledgeBase | None = None,
    environ: Mapping[str, str] | None = None,
    directory: DirectoryGroups | None = None,
    skill_factory: Callable[[SkillServices], list[Skill]] = build_skills,
) -> Runtime:
    """Build the core without any channel (used by the CLI and by :func:`build_app`).

    ``providers`` replaces model providers by name (tests use a loopback fake);
    ``knowledge`` replaces the knowledge base (tests use a small embedder);
    ``directory`` replaces the group directory the settings configure (Entra ID, Slack);
    ``skill_factory`` replaces the skill registry (tests give a skill its fakes).
    """
    private_directory(settings.data_dir)  # owner-only: database, Chroma, keys
    policy = load_policy(settings.resolved_policy_file,
                         environ if environ is not None else process_environment())
    if directory is None:
        try:
            directory = build_directory(settings, named_groups=(
                policy.campaigns.directory_groups() if policy.campaigns else ()))
        except DirectoryUnavailable as error:
            raise PolicyError(f"Invalid policy:\n  campaigns: {error}") from None
    key_provider = build_key_provider(settings)  # local key file, or Vault transit
    store = Store.open(settings.resolved_database_url, key_provider=key_provider)
    knowledge = knowledge or KnowledgeBase.open(
        settings.data_dir / "knowledge", settings.knowledge, chroma_url=settings.chroma_url
    )
    roles = RoleResolver(policy.user_roles, directory)
    library = knowledge if isinstance(knowledge, KnowledgeBase) else None  # tests: a fake search
    skills = skill_factory(SkillServices(knowledge=knowledge,
                                         templates=TemplateStore(store.engine, sealer=store),
                                         roles=roles, library=library,
                                         campaigns=CampaignServices(
                                             CampaignStore(store.engine, store), store.record_event,
                                             settings.data_dir / "campaigns.yaml", settings.dlp,
                                             policy.campaigns, _personal_chats(settings)),
                                         tenders_dir=settings.data_dir / "tenders"))
    policy.check_skills({skill.name: skill.model_roles for skill in skills})
    counters: CounterStore = (RedisCounters(settings.redis_url) if settings.redis_url
                              else MemoryCounters())
    detector = Detector(settings.dlp) if settings.dlp.enabled else None
    gateway = ModelGateway(policy, default_providers(policy, providers), detector=detector,
                           dlp=settings.dlp)
    assistant = Assistant(
        SkillRouter(skills, default=DEFAULT_SKILL),
        gateway,
        store,
        AssistantLimits(
            max_message_chars=settings.max_message_chars,
            memory_turns=settings.memory_turns,
            skill_timeout_seconds=settings.skill_timeout_seconds,
        ),
        charter=settings.charter,
        quotas=Quotas(policy.quotas, counters),
        roles=roles,
        skill_roles={name: skill.allowed_user_roles for name, skill in policy.skills.items()},
        pending=(RedisPendingQuestions(settings.redis_url, store) if settings.redis_url
                 else None),
        presses=RedisPresses(settings.redis_url) if settings.redis_url else None,
    )
    runtime = Runtime(settings, policy, store, knowledge, gateway, assistant, roles,
                      ChatInbox(InboxStore(store.engine, store), settings.inbox), detector)
    if settings.files.enabled:
        wire_files_and_jobs(runtime, skills)
    return runtime


def wire_files_and_jobs(runtime: Runtime, skills: Sequence[Skill]) -> None:
    """Files (store, intake, signed links) and jobs (store, runner, engine, service)."""
    settings = runtime.settings
    sealer = runtime.store  # content sealed with its owner's key, shredded on purge
    files = FileStore(runtime.store.engine, sealer,
                      retention=timedelta(days=settings.files.retention_days))
    secret = (settings.files.link_secret.get_secret_value().encode()
              if settings.files.link_secret is not None
              else load_link_secret(settings.data_dir / "keys" / "links.key"))
    links = LinkSigner(secret, ttl_seconds=settings.files.link_ttl_minutes * 60,
                       base_url=settings.files.public_url or "")
    job_store = JobStore(runtime.store.engine, sealer)
    tasks = {(skill.name, name): task for skill in skills
             for name, task in job_tasks(skill).items()}
    service_box: list[JobService] = []

    async def audit(job: JobView, action: str, outcome: str, details: dict[str, Any],
                    usage: Sequence[UsageRecord]) -> None:
        await service_box[0].audit(job, action, outcome, details, usage)

    runner = JobRunner(job_store, files, tasks, runtime.reporters, settings.jobs, audit=audit,
                       link_for=lambda file_id, name: links.url(file_id, name, absolute=True),
                       gateway=runtime.gateway)
    engine = build_engine(settings, runner, job_store)
    policy = runtime.policy
    service = JobService(job_store, engine, settings.jobs, runtime.store,
                         per_user=policy.max_active_jobs_per_user,
                         per_skill={name: skill.max_active_jobs
                                    for name, skill in policy.skills.items()
                                    if skill.max_active_jobs is not None})
    service_box.append(service)
    for skill in skills:  # skills whose jobs queue sub-jobs (team documents' batches)
        bind_jobs = getattr(skill, "bind_jobs", None)
        if bind_jobs is not None:
            bind_jobs(service, settings)
    runtime.files = files
    runtime.intake = FileIntake(files, settings.files, FileClassifier(settings.dlp),
                                runtime.store, links, settings.data_dir / "spool")
    runtime.jobs = service
    runtime.runner = runner
    runtime.engine = engine
    runtime.assistant.files = files
    runtime.assistant.jobs = service


def _personal_chats(settings: Settings) -> PersonalChats | None:
    """Teams personal chats opened by installing the app (Microsoft Graph), when configured."""
    if not settings.teams.app_catalog_id:
        return None
    from adapters.teams_install import build_installer

    return build_installer(settings)


async def _warm(name: str, warm_up: Callable[[], object]) -> None:
    """Run a skill's blocking ``warm_up`` off the event loop; a failure is logged only (the
    skill then loads what it needs on first use)."""
    try:
        await asyncio.to_thread(warm_up)
    except Exception:
        log.exception("warming up skill %s failed; it loads on first use", name)


def build_app(
    settings: Settings,
    *,
    providers: Mapping[str, ModelProvider] | None = None,
    knowledge: KnowledgeBase | None = None,
    environ: Mapping[str, str] | None = None,
    adapter_factories: Sequence[AdapterFactory] | None = None,
    directory: DirectoryGroups | None = None,
    skill_factory: Callable[[SkillServices], list[Skill]] = build_skills,
) -> web.Application:
    """The aiohttp application with every enabled channel mounted.

    By default the channels are those the settings enable (web chat, Slack, Teams);
    ``adapter_factories`` replaces that choice (tests inject loopback fakes this way).
    """
    runtime = build_runtime(settings, providers=providers, knowledge=knowledge, environ=environ,
                            directory=directory, skill_factory=skill_factory)
    app = web.Application(client_max_size=1024 * 1024)
    install_edge(app, settings.web)  # Host check, JSON errors, security headers
    app[RUNTIME] = runtime
    factories = enabled_adapters(settings) if adapter_factories is None else adapter_factories
    if settings.files.enabled:  # signed downloads serve every channel; uploads the web API
        from adapters.web_files import FilesEndpoint

        factories = [*factories, FilesEndpoint]
    if settings.console.enabled:  # the governance committee's console under /console
        from console.web import ConsoleEndpoint

        factories = [*factories, ConsoleEndpoint]
    chosen = [factory(runtime) for factory in factories]
    runtime.adapters = chosen
    for adapter in chosen:
        adapter.mount(app)

    background: list[asyncio.Task[None]] = []

    async def on_startup(_app: web.Application) -> None:
        await runtime.start()
        background.append(asyncio.create_task(runtime.apply_retention()))
        background.append(asyncio.create_task(runtime.warm_knowledge()))
        background.append(asyncio.create_task(runtime.expire_files()))
        if runtime.inbox.channels:
            background.append(asyncio.create_task(runtime.inbox.forever()))
        for skill in runtime.assistant.router.skills:  # a skill's periodic work (reminders…)
            periodic = getattr(skill, "periodic", None)
            if periodic is not None:
                background.append(asyncio.create_task(periodic(runtime.jobs)))
            warm_up = getattr(skill, "warm_up", None)  # models it loads, before a first user
            if warm_up is not None:
                background.append(asyncio.create_task(_warm(skill.name, warm_up)))

    async def on_cleanup(_app: web.Application) -> None:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await runtime.inbox.close()
        await runtime.close()

    async def on_shutdown(_app: web.Application) -> None:
        runtime.inbox.stop_taking()  # before the channels finish their answers in flight

    app.on_startup.append(on_startup)
    app.on_shutdown.insert(0, on_shutdown)
    app.on_cleanup.append(on_cleanup)
    # /healthz, /readyz, /metrics; readiness true once started, the last flush before closing
    install_ops(app, runtime, [adapter.name for adapter in chosen], before_cleanup=on_cleanup)
    return app
