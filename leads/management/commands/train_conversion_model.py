from django.core.management.base import BaseCommand, CommandError

from crm.models import Tenant
from leads.models import Lead
from leads.prediction.service import refresh_predictions
from leads.prediction.training import train_model

CHUNK = 10_000


class Command(BaseCommand):
    help = (
        "Learn each tenant's conversion model from its closed leads (converted vs disqualified) and make it the "
        "active one, then predict every open lead with it. Tenants with too little history keep the rule-score "
        "fallback."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant (default: every tenant).")
        parser.add_argument("--no-predict", action="store_true",
                            help="Leave open leads' predictions as they are (they update as each lead changes).")

    def handle(self, *args, **options):
        slug = options["tenant"]
        if slug:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                known = list(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20])
                raise CommandError(
                    f"No tenant with slug '{slug}'. Known tenants: {', '.join(known) or 'none'}; "
                    "or leave out --tenant to train every tenant."
                )
            tenants = [tenant]
        else:
            tenants = list(Tenant.objects.order_by("slug"))

        trained = skipped = 0
        for tenant in tenants:
            outcome = train_model(tenant=tenant)
            history = f"{outcome.converted} converted, {outcome.disqualified} disqualified"
            if not outcome.trained:
                skipped += 1
                keeps = f"model {outcome.previous.version} stays active" if outcome.previous else "the rule score is used"
                self.stdout.write(f"{tenant.slug}: {outcome.skipped_because}; nothing trained, {keeps}.")
                continue
            trained += 1
            model = outcome.model
            assert model is not None  # outcome.trained
            replaced = f"; replaces {outcome.previous.version}" if outcome.previous else ""
            self.stdout.write(self.style.SUCCESS(
                f"{tenant.slug}: trained {model.version} on {model.examples} leads ({history}), "
                f"{len(model.coefficients)} columns from {len(model.features['features'])} features, "
                f"held-out ROC AUC {model.roc_auc:.3f}{replaced}."
            ))
            if not options["no_predict"]:
                self._predict_open_leads(tenant)
        self.stdout.write(f"Done: {trained} model(s) trained, {skipped} tenant(s) skipped.")

    def _predict_open_leads(self, tenant: Tenant) -> None:
        """The new model's prediction on every open lead, in chunks that each commit (progress per chunk).

        Saving the model bumped this tenant row's config version (leads/rules/config.py), so the
        cached config it keys is the new model's."""
        ids = list(Lead.objects.filter(tenant=tenant).open().order_by("pk").values_list("pk", flat=True))
        done = 0
        for start in range(0, len(ids), CHUNK):
            done += refresh_predictions(tenant=tenant, lead_ids=ids[start : start + CHUNK])
            if len(ids) > CHUNK:
                self.stdout.write(f"{tenant.slug}: predicted {done:,} of {len(ids):,} open leads")
        self.stdout.write(f"{tenant.slug}: {done:,} open lead(s) predicted with the new model.")
