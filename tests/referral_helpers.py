"""Shared steps for referral tests: a case with items, referrals from it, a link to Arnhem."""

from typing import Any

from sqlmodel import Session

from app.services import accounts, endpoints
from tests.case_helpers import add_member, new_case, organisation_id

API = "/api/v1"
ARNHEM = "https://arnhem.example.nl"
PURPOSE = "Begeleiding bij zorgen over radicalisering; gesprek met behandelaar gewenst."


def ok(response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def case_with_items(client, auth) -> dict:
    """A case (Politie takes part) with two items of the coordinator: `shared` and `kept`."""
    case = new_case(client, auth)
    add_member(client, auth, case["id"], "POL")
    items = f"{API}/cases/{case['id']}/items"
    body = {"kind": "municipality", "source": "Gesprek", "date": "2025-01-10"}
    coordinator = auth("coordinator")
    case["shared_item"] = ok(client.post(items, json=body | {"text": "Gedeelde informatie."}, headers=coordinator), 201)["id"]
    case["kept_item"] = ok(client.post(items, json=body | {"text": "Niet gedeelde informatie."},
                                       headers=coordinator), 201)["id"]
    return case


def referral_body(client, auth, code: str, **overrides) -> dict:
    body = {"recipient_organisation_id": organisation_id(client, auth("coordinator"), code), "purpose": PURPOSE,
            "legal_basis": "public_task", "legal_basis_note": "Wet maatschappelijke ondersteuning",
            "shared_fields": ["name", "date_of_birth"], "shared_item_ids": [], "due_date": "2099-01-01"}
    return body | overrides


def refer(client, auth, case: dict, code: str, **overrides) -> dict:
    body = referral_body(client, auth, code, **overrides)
    return ok(client.post(f"{API}/cases/{case['id']}/referrals", json=body, headers=auth("coordinator")), 201)


def link_arnhem(app) -> None:
    """Registers Arnhem's registry with Utrecht, as `casusregister register-endpoint` does."""
    with Session(app.state.engine) as session:
        find = accounts.find_organisation
        endpoints.register(session, app.state.settings, find(session, "ARN"), find(session, "UTR"),
                           ARNHEM, f"{ARNHEM}/api/v1/auth/token", "utrecht-system", "secret-from-arnhem")
        session.commit()


def inbound_body(reference: str = "ARN-2026-0001", **overrides) -> dict:
    body = {"sender_reference": reference, "purpose": "Betrokkene verhuist naar Utrecht; overdracht van de aanpak.",
            "legal_basis": "public_task",
            "subject": {"name": "Piet Jansen", "date_of_birth": "2001-07-14", "bsn": "123456782"},
            "summary": "Sinds 2025 in beeld bij de gemeente Arnhem; contact met jongerenwerk loopt goed."}
    return body | overrides
