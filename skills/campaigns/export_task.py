"""The export job: the approved version's files, posted in the conversation with links."""

from __future__ import annotations

from bot.i18n import Text, plural
from bot.jobs.model import JobContext, JobFailed, JobResult
from bot.store.campaigns import CampaignNotFound, CampaignStore
from skills.campaigns.export import NotApproved, approved_version, export_files
from skills.campaigns.present import people
from skills.campaigns.rules import CampaignRules

_DONE = Text("Export de « {title} », version {version} approuvée ({approvers}) : {count} "
             "fichier{s}, chacun tamponné de l'approbation (empreinte {fingerprint}).",
             "Export of “{title}”, approved version {version} ({approvers}): {count} file{s}, "
             "each stamped with the approval (fingerprint {fingerprint}).")
_GONE = Text("La campagne n'existe plus.", "The campaign no longer exists.")
_MOVED = Text("La campagne a changé depuis la demande d'export (version {version}, pas "
              "{asked}) : relancez l'export.",
              "The campaign changed since the export was asked (version {version}, not "
              "{asked}): ask for the export again.")


class ExportTask:
    """Writes DOCX, HTML and CSV of the version approved when the export was asked."""

    def __init__(self, store: CampaignStore, rules: CampaignRules) -> None:
        self._store = store
        self._rules = rules

    async def run(self, context: JobContext) -> JobResult:
        """Re-check approval at run time: a version edited since is never exported."""
        params = context.job.params
        locale = context.job.reply_to.locale
        try:
            campaign = await self._store.get(str(params.get("campaign", "")))
        except CampaignNotFound:
            raise JobFailed(_GONE) from None
        asked = int(params.get("version", 0))
        if campaign.current.number != asked:
            raise JobFailed(_MOVED, version=campaign.current.number, asked=asked)
        try:
            _version, stamp = approved_version(campaign)
        except NotApproved as refusal:
            raise JobFailed(refusal.text, **refusal.values) from None
        files = export_files(campaign, self._rules)
        ids = []
        for index, file in enumerate(files):
            ids.append(await context.add_artefact(file.name, file.media_type, file.data))
            await context.progress((index + 1) / len(files))
        return JobResult(_DONE(locale, title=campaign.title, version=stamp.version,
                               approvers=people((d.user_id for d in stamp.approvals), locale),
                               count=len(files), s=plural(len(files), locale),
                               fingerprint=stamp.fingerprint[:12]),
                         artefacts=tuple(ids))
