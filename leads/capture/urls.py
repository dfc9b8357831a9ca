"""Public pages (no login): the hosted website form."""

from django.urls import path

from leads.capture import views

urlpatterns = [
    path("f/<str:form_key>/", views.hosted_form, name="hosted-form"),
]
