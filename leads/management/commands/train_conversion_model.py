from django.core.management.base import BaseCommand, CommandError

from crm.models import Tenant
from leads.prediction import train_model


class Command(BaseCommand):
    help = (
        "Learn each tenant's conversion model from its closed leads (converted vs disqualified) and make it the "
        "active one. Tenants with too little history keep the rule-score fallback."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant (default: every tenant).")

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
            replaced = f"; replaces {outcome.previous.version}" if outcome.previous else ""
            self.stdout.write(self.style.SUCCESS(
                f"{tenant.slug}: trained {model.version} on {model.examples} leads ({history}), "
                f"{len(model.coefficients)} columns from {len(model.features['features'])} features, "
                f"held-out ROC AUC {model.roc_auc:.3f}{replaced}."
            ))
        self.stdout.write(f"Done: {trained} model(s) trained, {skipped} tenant(s) skipped.")
