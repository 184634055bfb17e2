"""The scale bench's registry, generated in PostgreSQL: one INSERT … SELECT generate_series per table.

Every id is md5 of its kind and index, so a table refers to another by formula, without a look-up, and a
second load continues the first: load(small, large) adds exactly what a registry of the large size has
beyond the small one. Case c is about person 5c + c mod 5 (one person in five has a case), signal s
about person s div 2 (two signals each); person p lives in municipality SLOTS[p mod 5], so Benchstad
(municipality 0, the deployment's) holds two fifths of everything.
"""

import hashlib
import uuid
from dataclasses import dataclass

SLOTS = [0, 0, 1, 2, 3]
# Share of cases (percent) each column of Layout.orgs takes part in: municipality, police, care, youth
# work, education, probation.
MEMBER_SHARE = [100, 60, 40, 30, 20, 15]
AGENDA_ITEMS = 25


@dataclass(frozen=True)
class Sizes:
    cases: int
    meetings: int
    events: int

    @property
    def persons(self) -> int:
        return 5 * self.cases

    @property
    def signals(self) -> int:
        return 10 * self.cases


def sizes(factor: float) -> Sizes:
    """factor 1.0: 100,000 cases, 500,000 persons, 1,000,000 signals, 10,000,000 audit events; meetings
    weekly for four years in each of five conferences (Benchstad has two)."""
    return Sizes(max(round(100_000 * factor), 100), max(round(1040 * factor), 10), round(10_000_000 * factor))


def uid(kind: str, index: object) -> uuid.UUID:
    """The id the SQL below gives record `index` of `kind`."""
    return uuid.UUID(hashlib.md5(f"{kind}/{index}".encode()).hexdigest())


def pseudonym(person: int) -> str:
    return "P-" + hashlib.md5(f"pseudonym/{person}".encode()).hexdigest()[:16].upper()


def _h(salt: str, expr: str) -> str:
    """A well-spread non-negative integer from an expression: the SQL's dice."""
    return f"abs(hashtext('{salt}/' || ({expr})::text))"


def _id(kind: str, expr: str) -> str:
    return f"md5('{kind}/' || ({expr})::text)::uuid"


MI = "(%(slots)s::int[])[1 + mod({0}, 5)]"  # the municipality index of person or case {0}
ORG = "(%(orgs)s::uuid[])[1 + {0}][{1}]"  # column {1} (1-based) of Layout.orgs for municipality {0}
CASE_CREATED = "now() - (30 + mod(" + _h("created", "{0}") + ", 1095)) * interval '1 day'"
FIRST = "ARRAY['Anna','Bram','Chaima','Daan','Emre','Fleur','Gijs','Hamza','Iris','Jesse','Kees','Lotte','Mohamed'," \
        "'Noor','Omar','Priya','Ruben','Sanne','Thijs','Yara','Zeynep','Lars','Mila','Ayoub']"
LAST = "ARRAY['de Vries','Jansen','Bakker','Visser','Smit','Meijer','de Boer','Mulder','de Groot','Bos','Vos','Peters'," \
       "'Hendriks','van Dijk','Yilmaz','El Amrani','Kaya','Dekker','Brouwer','de Wit','Dijkstra','Smits','de Graaf'," \
       "'van der Meer','van Leeuwen','Kok','Jacobs','de Haan','Vermeulen','Schouten']"
HMAC = "encode(hmac(convert_to({0}, 'UTF8'), convert_to(%(secret)s, 'UTF8'), 'sha256'), 'hex')"
BSN_SUM = " + ".join(f"{10 - i} * mod(n8 / {10 ** (8 - i)}, 10)" for i in range(1, 9))  # the elfproef

PERSONS = f"""
INSERT INTO persons (id, municipality_id, pseudonym, name, date_of_birth, bsn, address, district, bsn_key,
                     name_dob_key, created_at)
SELECT {_id('person', 'p')}, (%(mun)s::uuid[])[1 + mi], 'P-' || upper(left(md5('pseudonym/' || p), 16)), name, dob, bsn,
       'Straat ' || mod(p, 300) || ', Benchstad', 'Wijk ' || mod(p, 12),
       CASE WHEN bsn IS NOT NULL THEN {HMAC.format("'bsn' || chr(31) || bsn")} END,
       {HMAC.format("'name-dob' || chr(31) || lower(name) || chr(31) || dob::text")},
       now() - (60 + mod({_h('pc', 'p')}, 1100)) * interval '1 day'
FROM generate_series(%(p_lo)s, %(p_hi)s - 1) AS p,
     LATERAL (SELECT {MI.format('p')} AS mi, date '1965-01-01' + mod({_h('dob', 'p')}, 16000) AS dob,
                     ({FIRST})[1 + mod({_h('first', 'p')}, 24)] || ' ' || ({LAST})[1 + mod({_h('last', 'p')}, 30)] AS name,
                     10000000 + mod({_h('bsn', 'p')}, 89999999) AS n8) AS a,
     LATERAL (SELECT CASE WHEN mod({_h('has-bsn', 'p')}, 10) < 6 AND mod({BSN_SUM}, 11) < 10
                          THEN n8::text || mod({BSN_SUM}, 11) END AS bsn) AS b
"""

# Case history rows written with the records they describe, as the services do (app/services/cases.py).
HISTORY = """INSERT INTO case_history (id, case_id, at, actor_kind, actor_id, actor_name, organisation_id, change, details)"""

CASES = f"""
WITH made AS (
  INSERT INTO cases (id, number, municipality_id, person_id, status, owner_user_id, risk_level, risk_summary,
                     risk_assessed_by, risk_assessed_on, next_review_date, closure_reason, version, created_at, updated_at)
  SELECT {_id('case', 'c')}, (%(codes)s::text[])[1 + mi] || '-' || extract(year FROM created)::int || '-' || lpad(c::text, 6, '0'),
         (%(mun)s::uuid[])[1 + mi], {_id('person', '5 * c + mod(c, 5)')}, status, coordinator,
         CASE WHEN assessed THEN (ARRAY['low', 'medium', 'high'])[1 + mod({_h('risk', 'c')}, 3)] END,
         CASE WHEN assessed THEN 'Duiding: zorgen over isolement en online contacten; beschermende factoren in gezin.' END,
         CASE WHEN assessed THEN coordinator END, CASE WHEN assessed THEN (created + interval '30 days')::date END,
         CASE WHEN status <> 'closed' THEN current_date - 30 + mod({_h('review', 'c')}, 180) END,
         CASE WHEN status = 'closed' THEN 'Doelen van de aanpak zijn bereikt; geen zorgen meer.' END,
         1, created, created + interval '20 days'
  FROM generate_series(%(c_lo)s, %(c_hi)s - 1) AS c,
       LATERAL (SELECT {MI.format('c')} AS mi, {CASE_CREATED.format('c')} AS created,
                       (ARRAY['closed', 'closed', 'closed', 'closed', 'intake', 'investigation', 'approach', 'approach',
                              'monitoring', 'monitoring'])[1 + mod({_h('status', 'c')}, 10)] AS status) AS a,
       LATERAL (SELECT (%(coordinators)s::uuid[])[1 + mi] AS coordinator,
                       status IN ('approach', 'monitoring', 'closed') AS assessed) AS b
  RETURNING id, number, created_at, municipality_id, owner_user_id)
{HISTORY}
SELECT gen_random_uuid(), id, created_at, 'user', owner_user_id, 'coordinator', municipality_id, 'created',
       json_build_object('number', number, 'status', 'intake')
FROM made
"""

SIGNALS = f"""
WITH made AS (
  INSERT INTO signals (id, municipality_id, person_id, subject_name, subject_date_of_birth, subject_bsn, subject_address,
                       reporter_kind, reporter_id, reporter_organisation_id, categories, description, observed_at,
                       urgency, channel, district, status, case_id, triage_reason, triaged_at, triaged_by,
                       created_at, updated_at)
  SELECT {_id('signal', 's')}, person.municipality_id, person.id, person.name, person.date_of_birth, person.bsn,
         person.address, 'user',
         CASE WHEN mi = 0 AND rk = 1 AND r = 0 THEN %(melder)s ELSE {_id('reporter', "mi || '/' || rk || '/' || r")} END,
         {ORG.format('mi', '1 + rk')},
         (ARRAY['["social_isolation"]', '["online_propaganda", "extremist_expressions"]', '["change_in_behaviour"]',
                '["family_concern", "social_isolation"]', '["recruitment"]', '["threat_of_violence", "travel_intent"]'])
           [1 + mod({_h('cat', 's')}, 6)]::json,
         'Jongere trekt zich terug, deelt extremistische filmpjes in een groepsapp en zoekt contact met onbekenden.',
         created - interval '1 day', CASE mod({_h('urgency', 's')}, 20) WHEN 0 THEN 'acute' WHEN 1 THEN 'high'
                                     WHEN 2 THEN 'high' ELSE 'normal' END,
         (ARRAY['in_person', 'phone', 'email', 'registration_system'])[1 + mod({_h('channel', 's')}, 4)],
         person.district, status, CASE WHEN has_case THEN {_id('case', 'p / 5')} END,
         CASE WHEN status = 'no_further_action' THEN 'Besproken met de melder: geen zorgen over radicalisering.' END,
         CASE WHEN triaged THEN created + interval '2 days' END,
         CASE WHEN triaged THEN (%(coordinators)s::uuid[])[1 + mi] END,
         created, created + CASE WHEN triaged THEN interval '2 days' ELSE interval '0' END
  FROM generate_series(%(s_lo)s, %(s_hi)s - 1) AS s,
       LATERAL (SELECT s / 2 AS p) AS sp,
       LATERAL (SELECT {MI.format('p')} AS mi, mod(p, 5) = mod(p / 5, 5) AS has_case, 1 + mod({_h('rk', 's')}, 4) AS rk,
                       mod({_h('reporter', 's')}, 50) AS r, mod({_h('state', 's')}, 10) AS dice) AS a,
       LATERAL (SELECT CASE WHEN has_case THEN 'linked_to_case' WHEN dice = 0 THEN 'received'
                            WHEN dice = 1 THEN 'in_triage' ELSE 'no_further_action' END AS status) AS b,
       LATERAL (SELECT status IN ('linked_to_case', 'no_further_action') AS triaged,
                       CASE WHEN has_case THEN {CASE_CREATED.format('p / 5')} - mod({_h('before', 's')}, 60) * interval '1 day'
                            WHEN status = 'no_further_action' THEN now() - (14 + mod({_h('at', 's')}, 1095)) * interval '1 day'
                            ELSE now() - mod({_h('at', 's')}, 20000) * interval '1 minute' END AS created) AS d,
       persons AS person
  WHERE person.id = {_id('person', 'p')}
  RETURNING id, case_id, triaged_at, triaged_by, municipality_id)
{HISTORY}
SELECT gen_random_uuid(), case_id, triaged_at, 'user', triaged_by, 'coordinator', municipality_id, 'signal_linked',
       json_build_object('signal_id', id)
FROM made WHERE case_id IS NOT NULL
"""
