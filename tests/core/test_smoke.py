import pytest

from clinicflow.inbox.models import Inquiry


@pytest.mark.django_db
def test_public_inquiry_lands_in_queue(client, moscow, rita_client):
    r = client.post("/api/v1/public/inquiries", {"name": "Ivan", "phone": "8 (916) 123-45-67", "consent": True},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    inquiry = Inquiry.objects.get()
    assert inquiry.patient.phones == ["+79161234567"]
    page = rita_client.get("/queue/")
    assert page.status_code == 200
    assert b"Ivan" in page.content
    card = rita_client.get(f"/inquiries/{inquiry.pk}/")
    assert card.status_code == 200
    assert rita_client.get("/cases/").status_code == 200
    assert rita_client.get(f"/patients/{inquiry.patient_id}/").status_code == 200
    assert rita_client.get("/tasks/").status_code == 200
    assert rita_client.get("/patients/?q=916").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"
