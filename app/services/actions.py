"""Actions: agreed for a case, owned by an organisation (and optionally a person), done or cancelled
with a note on the result."""

from datetime import date

from sqlmodel import Session

from app.audit.writer import Auditor
from app.auth.policies import idempotency
from app.auth.policies.actions import POLICY, ActionAccess, replayed_action
from app.auth.policies.agendas import agenda_item_of_case
from app.auth.policies.cases import ACTIVITY, CaseAccess, case_members
from app.errors import ApiError
from app.models import Action, Case, User
from app.models.action import ActionCreate, ActionStatus, ActionUpdate, ActionView
from app.models.audit import Operation
from app.models.base import utcnow
from app.models.outbox import WebhookEvent
from app.services import outbox
from app.services.cases import record


def _invalid(name: str, code: str, reason: str) -> ApiError:
    return ApiError(400, f"Invalid {name}: {reason}.", errors=[
        {"name": name, "location": "body", "code": code, "reason": reason}])


def _check(session: Session, access: CaseAccess, data: ActionCreate) -> None:
    members = {m.organisation_id for m, _ in case_members(session, access.case.id)}
    if data.owner_organisation_id not in members:
        raise _invalid("owner_organisation_id", "not_a_member", "the organisation does not take part in the case")
    if data.owner_user_id is not None:
        user = session.get(User, data.owner_user_id)
        if user is None or not user.is_active or user.organisation_id != data.owner_organisation_id:
            raise _invalid("owner_user_id", "not_in_organisation", "not a user of the owning organisation")
    if data.due_date < date.today():
        raise _invalid("due_date", "in_the_past", "must not be in the past")
    if data.agenda_item_id is not None and agenda_item_of_case(session, data.agenda_item_id, access.case.id) is None:
        raise _invalid("agenda_item_id", "unknown_agenda_item", "not an agenda item of this case")


def assign(session: Session, auditor: Auditor, access: CaseAccess, data: ActionCreate) -> Action:
    """The one place where an action is created and assigned to its owner."""
    _check(session, access, data)
    action = Action(case_id=access.case.id, agenda_item_id=data.agenda_item_id, description=data.description,
                    owner_organisation_id=data.owner_organisation_id, owner_user_id=data.owner_user_id,
                    due_date=data.due_date, created_by=auditor.principal.id)
    session.add(action)
    session.flush()
    record(session, auditor, access.case.id, "action_agreed",
           {"action_id": str(action.id), "owner_organisation_id": str(action.owner_organisation_id)})
    auditor.allowed(Operation.create, "action", action.id, [access.person.pseudonym], ACTIVITY,
                    {"case_id": str(access.case.id), "owner_organisation_id": str(action.owner_organisation_id)},
                    municipality_id=access.case.municipality_id)
    outbox.notify(session, organisation_id=action.owner_organisation_id, event_type=WebhookEvent.action_assigned,
                  resource_type="action", resource_id=action.id)
    return action


def assign_once(session: Session, auditor: Auditor, access: CaseAccess, data: ActionCreate,
                key: str | None) -> tuple[Action, bool]:
    """With an optional Idempotency-Key a retry answers the action agreed the first time: no second
    action, no second notification. The key keeps only the action's id, never its text."""
    record = None
    if key is not None:
        fingerprint = idempotency.request_fingerprint(data.model_dump(mode="json") | {"case_id": str(access.case.id)})
        record = idempotency.claim(session, f"{auditor.principal.actor}|actions", key, fingerprint,
                                   access.case.municipality_id)
        if not idempotency.is_fresh(record):
            return replayed_action(auditor, access, record.resource_id), True
    action = assign(session, auditor, access, data)
    if record is not None:
        idempotency.complete(session, record, 201, {}, action.id)
    return action, False


def etag(action: Action) -> str:
    return f'"{action.id.hex}-{action.version}"'


def check_if_match(action: Action, if_match: str | None) -> None:
    if if_match is None:
        raise ApiError(428, "Send If-Match with the action's current ETag.")
    if if_match != etag(action):
        raise ApiError(412, "The action was changed since you read it; read it again.")


def finish(session: Session, auditor: Auditor, access: ActionAccess, data: ActionUpdate,
           if_match: str | None) -> Action:
    """Done or cancelled, written only if the action is still at the version of `if_match`."""
    action = access.action
    check_if_match(action, if_match)
    if action.status != ActionStatus.open:
        raise ApiError(409, f"The action is already {action.status}.", "illegal-transition")
    values = {"status": data.status, "result_note": data.result_note, "closed_by": auditor.principal.id,
              "closed_at": utcnow()}
    POLICY.save(session, action.id, action.version, values, "The action was changed since you read it; read it again.")
    record(session, auditor, access.case.id, "action_" + data.status, {"action_id": str(action.id)})
    auditor.allowed(Operation.update, "action", action.id, [access.person.pseudonym], ACTIVITY,
                    {"case_id": str(access.case.id), "status": data.status},
                    municipality_id=access.case.municipality_id)
    return action


def present(action: Action, case: Case, today: date | None = None) -> ActionView:
    today = today or date.today()
    return ActionView(id=action.id, case_id=action.case_id, case_number=case.number,
                      agenda_item_id=action.agenda_item_id, description=action.description,
                      owner_organisation_id=action.owner_organisation_id, owner_user_id=action.owner_user_id,
                      due_date=action.due_date, status=action.status,
                      overdue=action.status == ActionStatus.open and action.due_date < today,
                      result_note=action.result_note, created_at=action.created_at, closed_at=action.closed_at)
