"""The scale bench's audit log: partners reading and listing the cases of their municipalities over the
last year, as bench/auditlog.py generates it, each event naming the pseudonym of the case's person.
Conventions: bench/scale_data.py."""

from bench.scale_data import MI, ORG, _h

# Denials every fiftieth event, break-the-glass reads every 97th, a list every tenth; the event's actor is
# one of seven users at one of the case's municipality's partners.
EVENTS = f"""
WITH activity AS (SELECT version, legal_basis FROM processing_activities WHERE key = 'case-management'
                  ORDER BY version DESC LIMIT 1)
INSERT INTO audit_events (event_id, occurred_at, trace_id, actor_kind, actor_id, actor_name, organisation_id,
                          municipality_id, roles, operation, resource_type, resource_id, outcome, processing_activity,
                          processing_activity_version, span_id, legal_basis, client_address, detail)
SELECT gen_random_uuid(), now() - (%(e_hi)s - e) * (interval '365 days' / %(e_hi)s),
       replace(gen_random_uuid()::text, '-', ''), 'user', md5('actor/' || mi || '/' || col || '/' || mod(e, 7))::uuid::text,
       'partner', {ORG.format('mi', '1 + col')}, (%(mun)s::uuid[])[1 + mi], 'partner',
       CASE WHEN mod(e, 10) = 0 THEN 'list' ELSE 'read' END, 'case', md5('case/' || c)::uuid::text,
       CASE WHEN mod(e, 50) = 0 THEN 'denied' WHEN mod(e, 97) = 0 THEN 'emergency' ELSE 'allowed' END,
       'case-management', activity.version, left(md5(e::text), 16), activity.legal_basis, '10.0.0.' || mod(e, 250),
       '{{"view": "partner"}}'
FROM generate_series(%(e_lo)s, %(e_hi)s - 1) AS e, activity,
     LATERAL (SELECT mod({_h('event', 'e')}, %(c_hi)s) AS c, 1 + mod(e, 5) AS col) AS a,
     LATERAL (SELECT {MI.format('c')} AS mi) AS b
"""

EVENT_PERSONS = """
INSERT INTO audit_event_persons (event_seq, pseudonym)
SELECT e.seq, p.pseudonym
FROM audit_events AS e
JOIN (SELECT k.id::text AS case_id, p.pseudonym FROM cases AS k JOIN persons AS p ON p.id = k.person_id) AS p
  ON p.case_id = e.resource_id
WHERE e.seq > %(after)s
"""
