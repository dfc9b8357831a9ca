from django.urls import path

from leads.dashboard.my_tasks import complete_view, my_tasks_view, snooze_view
from leads.dashboard.views import dashboard_view

urlpatterns = [
    path("", dashboard_view, name="admin-dashboard"),
    path("tasks/", my_tasks_view, name="admin-my-tasks"),
    path("tasks/<int:pk>/complete/", complete_view, name="admin-task-complete"),
    path("tasks/<int:pk>/snooze/", snooze_view, name="admin-task-snooze"),
]
