"""Public pages (no login): the hosted website form."""

from django.urls import path

from . import views

urlpatterns = [
    path("f/<str:form_key>/", views.hosted_form, name="hosted-form"),
]
