"""cProfile an import of a generated --rows file (default 50,000) into a fresh PostgreSQL bench database,
parsed in the run's own thread (the default parses big files one batch ahead in a second thread).

    .venv/bin/python bench/import_profile.py 50000
"""

import cProfile, os, pstats, sys, time
sys.path.insert(0, os.getcwd())
from pathlib import Path
from bench.databases import fresh_postgres
from bench.import_file import generate
rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
fresh_postgres("postgres://postgres@127.0.0.1:5432/crm_bench_importspeed_prof")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from bench.import_leads import workspace
tenant = workspace("bench")
path = Path(f"/tmp/import-profile-{rows}.csv")
if not path.exists():
    generate(path, rows=rows)
from leads.importers import ImportOptions, engine, import_leads
engine.PARSE_AHEAD_BYTES = None  # cProfile sees one thread: parse in it, so the profile holds every stage
prof = cProfile.Profile()
t = time.monotonic()
prof.enable()
job = import_leads(tenant=tenant, path=path, options=ImportOptions())
prof.disable()
print(f"{rows} rows in {time.monotonic()-t:.1f} s; created {job.created} skipped {job.skipped} rejected {job.rejected} load {os.getloadavg()}")
prof.dump_stats(f"/tmp/import-profile-{rows}.out")
st = pstats.Stats(prof); st.sort_stats("cumulative").print_stats(60); st.sort_stats("tottime").print_stats(40)
