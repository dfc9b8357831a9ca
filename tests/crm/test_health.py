from unittest import mock

import pytest
from django.db import OperationalError

from crm.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_health_is_200_when_the_database_answers(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_does_not(client):
    with mock.patch("crm.health.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_plain_health_does_not_ask_the_broker_or_the_workers(client):
    with mock.patch("crm.health._broker") as broker, mock.patch("crm.health._workers") as workers:
        assert client.get("/health").json() == {"status": "ok", "database": "ok"}
    broker.assert_not_called()
    workers.assert_not_called()


def test_deep_health_is_503_when_no_worker_answers(client):
    response = client.get("/health?deep=1")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "ok"
    assert response.json()["worker"].startswith("no worker answered")


def test_deep_health_reports_an_unreachable_broker(client):
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1
    try:
        response = client.get("/health?deep=1")
    finally:
        celery_app.conf.broker_url = saved
    assert response.status_code == 503
    assert response.json()["broker"].startswith("unreachable")
