"""The network of the scale bench: three more municipalities, their partners, two regional organisations,
and the accounts the bulk data and the measured requests need, made with the application's account services."""

import secrets
import uuid
from dataclasses import dataclass, field

from sqlmodel import select

from app.auth.passwords import hasher
from app.auth.tokens import KeyRing
from app.db import Session
from app.models import Organisation, OrganisationKind, Role, User
from app.services import accounts
from bench.deployment import Deployment

# The partners of each municipality, in the order of the columns of Layout.orgs (after the municipality).
LOCAL_PARTNERS = [("police", OrganisationKind.police, "POL"), ("care", OrganisationKind.care, "GGZ"),
                  ("youth work", OrganisationKind.youth_work, "JW"), ("education", OrganisationKind.education, "SCH")]
MUNICIPALITIES = [("Schaalstad", "SCA"), ("Groeidorp", "GRD"), ("Veldhoven-Noord", "VHN")]


@dataclass
class Layout:
    """Organisation and user ids the bulk data refers to. `orgs[i]` is municipality i's row: the
    municipality, police, care, youth work, education, then the regional probation service (Benchstad
    is municipality 0; its police is the deployment's)."""
    municipalities: list[uuid.UUID]
    codes: list[str]
    orgs: list[list[uuid.UUID]]
    expert_pool: uuid.UUID
    chairs: list[uuid.UUID]  # the user who chairs (and coordinates) each municipality's meetings
    coordinators: list[uuid.UUID]
    callers: dict[str, tuple[str, dict]] = field(default_factory=dict)  # username -> (subject, claims)

    def user(self, username: str) -> uuid.UUID:
        return uuid.UUID(self.callers[username][0])


def _claims(user: User) -> tuple[str, dict]:
    return str(user.id), {"actor": "user", "name": user.username, "org": str(user.organisation_id),
                          "roles": list(user.roles)}


def _partners(session, municipality: Organisation, police: Organisation | None) -> list[Organisation]:
    found = [police] if police is not None else []
    for name, kind, suffix in LOCAL_PARTNERS[len(found):]:
        found.append(accounts.create_organisation(session, f"{name.title()} {municipality.name}", kind,
                                                  f"{municipality.code}{suffix}", municipality))
    return found


def _regional(session, municipalities: list[Organisation]) -> tuple[Organisation, Organisation]:
    """Probation and the expert pool serve every municipality of the region, as in the design."""
    home = municipalities[0]
    probation = accounts.create_organisation(session, "Reclassering Regio", OrganisationKind.probation, "RECREG", home)
    pool = accounts.create_organisation(session, "Duidingspool Regio", OrganisationKind.expert_pool, "DUIDREG", home)
    for organisation in (probation, pool):
        for municipality in municipalities[1:]:
            accounts.join_network(session, organisation, municipality)
    return probation, pool


def _user(session, h, username: str, organisation: Organisation, roles: list[Role]) -> User:
    return accounts.create_user(session, h, username, username, organisation, roles, secrets.token_urlsafe(24))


def create(deployment: Deployment) -> Layout:
    with Session(deployment.engine) as session:
        h = hasher(deployment.settings.argon2_time_cost, deployment.settings.argon2_memory_cost)
        home, police = (session.get(Organisation, o) for o in deployment.organisations)
        municipalities = [home] + [accounts.create_organisation(session, f"Gemeente {name}",
                                                                OrganisationKind.municipality, code, None)
                                   for name, code in MUNICIPALITIES]
        partners = [_partners(session, m, police if i == 0 else None) for i, m in enumerate(municipalities)]
        probation, pool = _regional(session, municipalities)
        bench = {u.username: u for u in session.exec(select(User).where(User.username.like("bench-%")))}
        staff = [_user(session, h, f"scale-staff-{m.code.lower()}", m, [Role.coordinator, Role.chair])
                 for m in municipalities[1:]]
        measured = [*bench.values(), _user(session, h, "scale-partner", police, [Role.partner]),
                    _user(session, h, "scale-expert", pool, [Role.expert]),
                    _user(session, h, "scale-reporter", police, [Role.melder])]
        layout = Layout([m.id for m in municipalities], [m.code for m in municipalities],
                        [[m.id, *(p.id for p in ps), probation.id] for m, ps in zip(municipalities, partners)],
                        pool.id, [bench["bench-chair"].id, *(u.id for u in staff)],
                        [bench["bench-coordinator"].id, *(u.id for u in staff)],
                        {u.username: _claims(u) for u in measured})
        session.commit()
        return layout


def tokens(deployment: Deployment, layout: Layout) -> dict[str, str]:
    """Fresh bearer tokens for the measured callers: a full-size load can outlast the deployment's."""
    keyring = KeyRing.from_settings(deployment.settings)
    return {name: keyring.issue(subject, claims)[0] for name, (subject, claims) in layout.callers.items()}
