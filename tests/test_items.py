"""Information items: shared on purpose, invisible elsewhere, corrected by versions."""

from tests.case_helpers import API, add_member, new_case, organisation_id


def items_url(case) -> str:
    return f"{API}/cases/{case['id']}/items"


def item_body(**overrides) -> dict:
    return {"kind": "police", "text": "Contacten met bekende ronselaar.", "source": "BVH-registratie",
            "date": "2026-11-10"} | overrides


def setup_case(client, auth):
    case = new_case(client, auth)
    add_member(client, auth, case["id"], "POL")
    add_member(client, auth, case["id"], "GGZ")
    return case


def test_default_sharing_is_municipality_and_contributor_only(client, auth):
    case = setup_case(client, auth)
    created = client.post(items_url(case), json=item_body(), headers=auth("police"))
    assert created.status_code == 201
    utrecht, police = (organisation_id(client, auth("police"), c) for c in ("UTR", "POL"))
    assert set(created.json()["shared_with"]) == {utrecht, police}
    assert client.get(items_url(case), headers=auth("care")).json()["items"] == []
    listed = client.get(items_url(case), headers=auth("coordinator")).json()["items"]
    assert [i["id"] for i in listed] == [created.json()["id"]]
    assert len(client.get(items_url(case), headers=auth("police")).json()["items"]) == 1


def test_shared_item_is_visible_to_that_member_only(client, auth):
    case = setup_case(client, auth)
    ggz = organisation_id(client, auth("care"), "GGZ")
    client.post(items_url(case), json=item_body(kind="care", text="Behandeling gestart.", shared_with=[ggz]),
                headers=auth("coordinator"))
    assert len(client.get(items_url(case), headers=auth("care")).json()["items"]) == 1
    assert client.get(items_url(case), headers=auth("police")).json()["items"] == []


def test_sharing_outside_the_case_is_400_and_stores_nothing(client, auth):
    case = setup_case(client, auth)
    arnhem = organisation_id(client, auth("police"), "ARN")
    response = client.post(items_url(case), json=item_body(shared_with=[arnhem]), headers=auth("police"))
    assert response.status_code == 400 and response.json()["errors"][0]["name"] == "shared_with"
    assert client.get(items_url(case), headers=auth("coordinator")).json()["items"] == []


def test_correction_keeps_earlier_version_for_the_same_parties(client, auth):
    case = setup_case(client, auth)
    item = client.post(items_url(case), json=item_body(), headers=auth("police")).json()
    url = f"{items_url(case)}/{item['id']}/corrections"
    body = {"text": "Contacten met bekende ronselaar (bevestigd).", "reason": "Bevestiging ontvangen van recherche."}
    corrected = client.post(url, json=body, headers=auth("police"))
    assert corrected.status_code == 201
    current = corrected.json()
    assert current["version"] == 2 and current["previous_versions"][0]["text"] == item["text"]
    listed = client.get(items_url(case), headers=auth("coordinator")).json()["items"]
    assert len(listed) == 1 and listed[0]["version"] == 2 and len(listed[0]["previous_versions"]) == 1
    assert client.get(items_url(case), headers=auth("care")).json()["items"] == []
    assert client.post(url, json=body, headers=auth("coordinator")).status_code == 403
    assert client.post(url, json=body, headers=auth("care")).status_code == 404


def test_non_member_cannot_add_and_invalid_items_are_400(client, auth):
    case = setup_case(client, auth)
    assert client.post(items_url(case), json=item_body(), headers=auth("youthworker")).status_code == 404
    bad = client.post(items_url(case), json=item_body(kind="gossip", date="2999-01-01", text=""),
                      headers=auth("police"))
    assert bad.status_code == 400 and len(bad.json()["errors"]) == 3
