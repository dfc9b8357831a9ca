from django.urls import path

from . import views

urlpatterns = [
    path("n/u/<str:token>", views.unsubscribe, name="nurture-unsubscribe"),
    path("n/o/<str:token>", views.opened, name="nurture-open"),
    path("n/c/<str:token>", views.clicked, name="nurture-click"),
]
