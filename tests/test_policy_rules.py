"""How a policy's rules combine for a caller with several roles: the first rule a row stands in gives
the view, any of them may give a right, and break-the-glass marks an access only when nothing else
allows it."""

from sqlmodel import Session, select

from app.models import Organisation, Role, User
from app.services import accounts
from tests.case_helpers import API, add_member, new_case
from tests.meeting_helpers import plan, user_id

ITEM = {"kind": "municipality", "text": "Gesprek met de moeder.", "source": "Gesprek", "date": "2025-01-10"}
REASON = "Acute dreiging gemeld door de wijk; informatie is vandaag nodig voor het veiligheidsoverleg."


def user(app, auth, username: str, code: str, roles: list[Role]) -> dict[str, str]:
    """Bearer headers of a user with these roles, created once per database."""
    with Session(app.state.engine) as session:
        if session.exec(select(User).where(User.username == username)).first() is None:
            organisation = session.exec(select(Organisation).where(Organisation.code == code)).one()
            accounts.create_user(session, app.state.hasher, username, username, organisation, roles,
                                 "a-password-of-16-chars")
            session.commit()
    return auth(username)


def test_a_chair_who_is_also_a_partner_of_a_member_contributes(client, auth, app):
    """The chair's rule decides the view (full); the member rule still gives the right to contribute."""
    both = user(app, auth, "chair-partner", "UTR", [Role.chair, Role.partner])
    case = new_case(client, auth)
    meeting = plan(client, auth, app, chair_id=user_id(app, "chair-partner"))
    client.post(f"{API}/meetings/{meeting['id']}/agenda/build", headers=auth("coordinator"))
    read = client.get(f"{API}/cases/{case['id']}", headers=both).json()
    assert read["view"] == "full" and read["emergency_access"] is False
    assert client.post(f"{API}/cases/{case['id']}/items", json=ITEM, headers=both).status_code == 201


def test_a_coordinator_who_is_also_privacy_officer_answers_an_access_request(client, auth, app):
    both = user(app, auth, "coordinator-privacy", "UTR", [Role.coordinator, Role.privacy_officer])
    case = new_case(client, auth)
    person = client.get(f"{API}/cases/{case['id']}", headers=both).json()["person"]
    assert client.get(f"{API}/persons/{person['id']}/access-report", headers=both).status_code == 200


def test_break_the_glass_marks_only_what_nothing_else_allows(client, auth):
    """youthworker breaks the glass on a case, then its organisation is made a member: reads are no
    longer emergencies."""
    case = new_case(client, auth)
    url = f"{API}/cases/{case['id']}"
    assert client.post(f"{url}/emergency-access", json={"reason": REASON}, headers=auth("youthworker")).status_code == 201
    assert client.get(url, headers=auth("youthworker")).json()["emergency_access"] is True
    add_member(client, auth, case["id"], "JOU")
    assert client.get(url, headers=auth("youthworker")).json()["emergency_access"] is False
