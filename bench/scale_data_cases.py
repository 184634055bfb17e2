"""What hangs on the scale bench's cases: members, information items and their shares, actions, referrals,
emergency accesses; and the meetings with their attendees and agendas. Conventions: bench/scale_data.py."""

from bench.scale_data import CASE_CREATED, HISTORY, MI, ORG, _h, _id

# The cases of this load with their members: the rows the items and actions are drawn from.
NEW_MEMBERS = f"""
FROM generate_series(%(c_lo)s, %(c_hi)s - 1) AS c
JOIN cases AS k ON k.id = {_id('case', 'c')}
JOIN case_members AS m ON m.case_id = k.id
JOIN organisations AS o ON o.id = m.organisation_id
"""

MEMBERS = f"""
WITH made AS (
  INSERT INTO case_members (case_id, organisation_id, added_by, added_at)
  SELECT {_id('case', 'c')}, {ORG.format('mi', '1 + col')}, (%(coordinators)s::uuid[])[1 + mi],
         {CASE_CREATED.format('c')} + col * interval '1 day'
  FROM generate_series(%(c_lo)s, %(c_hi)s - 1) AS c, generate_series(0, 5) AS col,
       LATERAL (SELECT {MI.format('c')} AS mi) AS a
  WHERE mod({_h('member', "c || '/' || col")}, 100) < (%(shares)s::int[])[1 + col]
  RETURNING case_id, organisation_id, added_by, added_at)
{HISTORY}
SELECT gen_random_uuid(), made.case_id, made.added_at, 'user', made.added_by, 'coordinator', k.municipality_id,
       'member_added', json_build_object('organisation_id', made.organisation_id)
FROM made JOIN cases AS k ON k.id = made.case_id
WHERE made.organisation_id <> k.municipality_id
"""

ITEM_ID = "md5('item/' || k.id || '/' || m.organisation_id || '/' || n)::uuid"
# One or two items per member; an item is shared with the municipality and its contributor (the API's
# default), a municipality's item with every member.
ITEMS = f"""
WITH made AS (
  INSERT INTO information_items (id, item_id, version, case_id, kind, text, source, date, contributor_organisation_id,
                                 contributor_id, contributor_name, created_at)
  SELECT {ITEM_ID}, {ITEM_ID}, 1, k.id,
         CASE WHEN o.kind IN ('municipality', 'police', 'care', 'youth_work', 'education') THEN o.kind ELSE 'other' END,
         'Gesprek gevoerd met betrokkene en ouders. Betrokkene is de afgelopen weken vaker afwezig op school, '
         || 'heeft nieuwe contacten via sociale media en uit zich negatief over de samenleving. Afspraak voor '
         || 'vervolggesprek gemaakt; zorgen gedeeld met het netwerk.',
         'Gesprek ' || o.code, (k.created_at + n * interval '3 days')::date, o.id, m.added_by, 'Medewerker ' || o.code,
         k.created_at + n * interval '3 days' + interval '1 hour'
  {NEW_MEMBERS}
  CROSS JOIN generate_series(1, 2) AS n
  WHERE n = 1 OR mod({_h('items', "c || '/' || o.code")}, 2) = 0
  RETURNING item_id, case_id, kind, contributor_organisation_id, contributor_id, contributor_name, created_at),
history AS (
  {HISTORY}
  SELECT gen_random_uuid(), case_id, created_at, 'user', contributor_id, contributor_name, contributor_organisation_id,
         'item_added', json_build_object('item_id', item_id, 'kind', kind)
  FROM made)
INSERT INTO item_shares (item_id, organisation_id)
SELECT made.item_id, made.contributor_organisation_id FROM made
UNION SELECT made.item_id, k.municipality_id FROM made JOIN cases AS k ON k.id = made.case_id
UNION SELECT made.item_id, m.organisation_id FROM made JOIN case_members AS m ON m.case_id = made.case_id
      WHERE made.kind = 'municipality'
"""

# Half the members own an action; those of a closed case are done.
ACTIONS = f"""
WITH made AS (
  INSERT INTO actions (id, case_id, description, owner_organisation_id, due_date, status, result_note, created_by,
                       created_at, closed_by, closed_at, version)
  SELECT {_id('action', "c || '/' || o.code")}, k.id, 'Huisbezoek afleggen en terugkoppelen in het casusoverleg.', o.id,
         (k.created_at + (14 + mod({_h('due', "c || o.code")}, 120)) * interval '1 day')::date, state,
         CASE WHEN state = 'done' THEN 'Gesprek gevoerd; terugkoppeling gegeven.' END, m.added_by,
         k.created_at + interval '3 days', CASE WHEN state = 'done' THEN m.added_by END,
         CASE WHEN state = 'done' THEN k.created_at + interval '20 days' END, 1
  {NEW_MEMBERS}
  CROSS JOIN LATERAL (SELECT CASE WHEN k.status = 'closed' OR mod({_h('done', "c || o.code")}, 10) >= 7 THEN 'done'
                                  ELSE 'open' END AS state) AS a
  WHERE mod({_h('action', "c || o.code")}, 2) = 0
  RETURNING id, case_id, owner_organisation_id, created_by, created_at)
{HISTORY}
SELECT gen_random_uuid(), made.case_id, made.created_at, 'user', made.created_by, 'coordinator', k.municipality_id,
       'action_agreed', json_build_object('action_id', made.id, 'owner_organisation_id', made.owner_organisation_id)
FROM made JOIN cases AS k ON k.id = made.case_id
"""

# Three cases in ten were referred: to the expert pool (a request for assessment), to care or to police;
# half of those of open cases still open. Each shares the municipality's first item of the case.
REFERRALS = f"""
WITH made AS (
  INSERT INTO referrals (id, kind, direction, municipality_id, case_id, person_id, sender_organisation_id,
                         recipient_organisation_id, purpose, legal_basis, shared_fields, due_date, status,
                         created_by, created_at, updated_at)
  SELECT {_id('referral', 'c')}, CASE WHEN to_pool THEN 'assessment_request' ELSE 'referral' END, 'outgoing',
         k.municipality_id, k.id, k.person_id, k.municipality_id,
         CASE WHEN to_pool THEN %(pool)s ELSE {ORG.format('mi', "2 + mod(" + _h('to', 'c') + ", 2)")} END,
         'Begeleiding bij zorgen over radicalisering; duiding van de risico''s gevraagd.', 'public_task',
         '["name", "date_of_birth", "district"]', (k.created_at + interval '60 days')::date,
         CASE WHEN k.status = 'closed' THEN 'completed'
              ELSE (ARRAY['sent', 'accepted', 'declined', 'completed'])[1 + mod({_h('rstate', 'c')}, 4)] END,
         'user:' || (%(coordinators)s::uuid[])[1 + mi], k.created_at + interval '10 days', k.created_at + interval '12 days'
  FROM generate_series(%(c_lo)s, %(c_hi)s - 1) AS c
  JOIN cases AS k ON k.id = {_id('case', 'c')},
       LATERAL (SELECT {MI.format('c')} AS mi, mod({_h('to', 'c')}, 3) = 0 AS to_pool) AS a
  WHERE mod({_h('referred', 'c')}, 10) < 3
  RETURNING id, kind, case_id, municipality_id, recipient_organisation_id, created_by, created_at),
shared AS (
  INSERT INTO referral_items (referral_id, item_id)
  SELECT id, md5('item/' || case_id || '/' || municipality_id || '/1')::uuid FROM made)
{HISTORY}
SELECT gen_random_uuid(), case_id, created_at, 'user', substr(created_by, 6)::uuid, 'coordinator', municipality_id,
       'referral_sent', json_build_object('referral_id', id, 'recipient_organisation_id', recipient_organisation_id,
                                          'kind', kind)
FROM made
"""

# The police partner broke the glass on one in a hundred of Benchstad's cases (every 250th case, all in
# Benchstad); the recent ones await review.
EMERGENCIES = f"""
INSERT INTO emergency_accesses (id, case_id, actor_id, actor_name, organisation_id, reason, granted_at, expires_at,
                                review_status, reviewed_by, review_note, reviewed_at)
SELECT {_id('emergency', 'c')}, {_id('case', 'c')}, %(partner)s, 'scale-partner', {ORG.format('0', '2')},
       'Acute dreiging gemeld door de wijkagent; direct inzicht nodig in de lopende aanpak.', granted,
       granted + interval '1 day', CASE WHEN recent THEN 'pending' ELSE 'approved' END,
       CASE WHEN NOT recent THEN %(privacy)s END, CASE WHEN NOT recent THEN 'Terecht gebruikt.' END,
       CASE WHEN NOT recent THEN granted + interval '3 days' END
FROM generate_series(%(c_lo)s, %(c_hi)s - 1) AS c,
     LATERAL (SELECT now() - mod({_h('glass', 'c')}, 365) * interval '1 day' AS granted) AS a,
     LATERAL (SELECT granted > now() - interval '14 days' AS recent) AS b
WHERE mod(c, 250) = 0  -- slot 0: Benchstad's
"""

STARTS = "date_trunc('hour', now()) + interval '3 days' - (mt / 5) * interval '7 days'"
# Meeting m is week m div 5 (0: in three days, planned; earlier weeks closed) of conference m mod 5, which
# belongs to municipality SLOTS[m mod 5]; police, care, youth work and probation attend.
MEETINGS = f"""
INSERT INTO meetings (id, municipality_id, starts_at, chair_id, location, status, started_at, closed_at, created_by,
                      created_at, version)
SELECT {_id('meeting', 'mt')}, (%(mun)s::uuid[])[1 + mi], starts, (%(chairs)s::uuid[])[1 + mi], 'Stadhuis, zaal 2',
       CASE WHEN mt / 5 = 0 THEN 'planned' ELSE 'closed' END, CASE WHEN mt / 5 > 0 THEN starts END,
       CASE WHEN mt / 5 > 0 THEN starts + interval '2 hours' END, (%(coordinators)s::uuid[])[1 + mi],
       starts - interval '14 days', 1
FROM generate_series(%(m_lo)s, %(m_hi)s - 1) AS mt,
     LATERAL (SELECT {MI.format('mt')} AS mi, {STARTS} AS starts) AS a
"""

ATTENDEES = f"""
INSERT INTO meeting_attendees (meeting_id, organisation_id)
SELECT {_id('meeting', 'mt')}, {ORG.format(MI.format('mt'), 'col')}
FROM generate_series(%(m_lo)s, %(m_hi)s - 1) AS mt, unnest(ARRAY[2, 3, 4, 6]) AS col
"""

# The agenda of meeting m: AGENDA_ITEMS cases of its conference, a different run of them each week;
# closed meetings have minutes and a decision.
AGENDA = f"""
INSERT INTO agenda_items (id, meeting_id, case_id, position, kind, reason, urgent, added_by, added_at, minutes,
                          decision, decided_by, decided_at)
SELECT {_id('agenda', "mt || '/' || i")}, {_id('meeting', 'mt')}, {_id('case', '5 * mod((mt / 5) * per + i, %(c_hi)s / 5) + mod(mt, 5)')},
       i + 1, CASE WHEN mod(i, 3) = 0 THEN 'review' ELSE 'case_discussion' END, 'Periodieke bespreking', false, chair,
       starts - interval '3 days', CASE WHEN closed THEN 'Besproken; de aanpak loopt volgens plan.' END,
       CASE WHEN closed THEN 'continue_approach' END, CASE WHEN closed THEN chair END,
       CASE WHEN closed THEN starts + interval '1 hour' END
FROM generate_series(%(m_lo)s, %(m_hi)s - 1) AS mt,
     LATERAL (SELECT least(%(per)s, %(c_hi)s / 5) AS per, mt / 5 > 0 AS closed,
                     (%(chairs)s::uuid[])[1 + {MI.format('mt')}] AS chair,
                     {STARTS} AS starts) AS a,
     LATERAL generate_series(0, per - 1) AS i
"""
