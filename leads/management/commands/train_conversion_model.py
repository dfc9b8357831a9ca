from django.core.management.base import BaseCommand, CommandError

from crm.models import Tenant
from leads.prediction.retraining import describe, train_workspace


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
            outcome, predicted = train_workspace(tenant=tenant, predict=not options["no_predict"],
                                                 say=self.stdout.write)
            if not outcome.trained:
                skipped += 1
                self.stdout.write(f"{tenant.slug}: {describe(outcome)}")
                continue
            trained += 1
            self.stdout.write(self.style.SUCCESS(f"{tenant.slug}: {describe(outcome)}"))
            if not options["no_predict"]:
                self.stdout.write(f"{tenant.slug}: {predicted:,} open lead(s) predicted with the new model.")
        self.stdout.write(f"Done: {trained} model(s) trained, {skipped} tenant(s) skipped.")
