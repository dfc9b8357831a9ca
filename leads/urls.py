"""Public pages (no login): the hosted website form."""

urlpatterns = []
