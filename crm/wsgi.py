import os

from django.core.wsgi import get_wsgi_application

from crm.startup import create_local_folders

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
create_local_folders()  # before WhiteNoise looks for STATIC_ROOT
application = get_wsgi_application()
