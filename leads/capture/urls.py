"""Public pages (no login): the hosted website form and the form token."""

from django.urls import path

from leads.capture import views

urlpatterns = [
    path("f/<str:form_key>/", views.hosted_form, name="hosted-form"),
    path("f/<str:form_key>/token", views.form_token, name="form-token"),
]
