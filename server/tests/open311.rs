//! Open311 GeoReport v2 conformance, on both back ends: every endpoint in XML (parsed with roxmltree) and JSON
//! (parsed with serde_json), checked against the field lists of the GeoReport v2 text and FixMyStreet's
//! `servicerequestupdates` extension; errors in the spec's format; privacy (public reports only, rounded positions,
//! no contact details).

mod common;

use common::*;
use serde_json::Value;

/// GeoReport v2 fields of a service, a service request, and a FixMyStreet request update.
const SERVICE_FIELDS: [&str; 7] =
    ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"];
const REQUEST_FIELDS: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];
const UPDATE_FIELDS: [&str; 6] =
    ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"];
const ATTRIBUTE_FIELDS: [&str; 7] =
    ["variable", "code", "datatype", "required", "datatype_description", "order", "description"];

fn xml(body: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("well-formed XML ({e}): {body}"))
}

/// The child elements of each `item` under the root, as (name, text) lists.
fn xml_records(doc: &roxmltree::Document<'_>, root: &str, item: &str) -> Vec<Vec<(String, String)>> {
    let r = doc.root_element();
    assert_eq!(r.tag_name().name(), root);
    r.children()
        .filter(|n| n.is_element())
        .map(|n| {
            assert_eq!(n.tag_name().name(), item);
            n.children()
                .filter(|c| c.is_element())
                .map(|c| (c.tag_name().name().to_owned(), c.text().unwrap_or("").to_owned()))
                .collect()
        })
        .collect()
}

fn spec_error(a: &Answer, status: u16, json: bool) -> String {
    assert_eq!(a.status, status, "{}", a.body);
    if json {
        let v = a.json();
        assert_eq!(v[0]["code"], status, "{v}");
        v[0]["description"].as_str().expect("description").to_owned()
    } else {
        let doc = xml(&a.body);
        let recs = xml_records(&doc, "errors", "error");
        assert_eq!(recs[0][0], ("code".into(), status.to_string()));
        recs[0][1].1.clone()
    }
}

fn rfc3339(s: &str) {
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s:?} is not a W3C date-time: {e}"));
}

#[test]
fn every_endpoint_speaks_georeport_v2_in_xml_and_json() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        let base = format!("{}open311/v2/", s.url);
        let client = api_key(&s, "fixmystreet", None);
        let office_system = api_key(&s, "maintenance-system", Some("Municipal Maintenance"));
        let museum_system = api_key(&s, "museum-system", Some("Regional Museum of History"));

        // Discovery.
        let d = get(&format!("{base}discovery.json"), &[]).json();
        assert!(d["endpoints"][0]["url"].as_str().expect("url").ends_with("/open311/v2"));
        assert_eq!(d["endpoints"][0]["formats"], serde_json::json!(["text/xml", "application/json"]));
        let dx = get(&format!("{base}discovery.xml"), &[]);
        assert!(dx.header("content-type").is_some_and(|c| c.starts_with("text/xml")));
        let doc = xml(&dx.body);
        assert_eq!(doc.root_element().tag_name().name(), "discovery");
        assert!(doc.descendants().any(|n| n.has_tag_name("specification")));

        // Services: one per kind with a route, names localised.
        let services = get(&format!("{base}services.json?jurisdiction_id=mini.example"), &[]).json();
        let list = services.as_array().expect("array");
        assert_eq!(list.len(), 9, "the mini city routes all nine kinds");
        for svc in list {
            let keys: Vec<&str> = svc.as_object().expect("object").keys().map(String::as_str).collect();
            for f in SERVICE_FIELDS {
                assert!(keys.contains(&f), "service lacks {f}: {svc}");
            }
            assert_eq!(svc["type"], "realtime");
        }
        let damage = list.iter().find(|x| x["service_code"] == "damage").expect("damage");
        assert_eq!(
            (damage["service_name"].as_str(), damage["group"].as_str()),
            (Some("Damage"), Some("Municipal Maintenance"))
        );
        let bg = get(&format!("{base}services.xml"), &[("Accept-Language", "bg-BG,bg;q=0.9")]);
        let doc = xml(&bg.body);
        let recs = xml_records(&doc, "services", "service");
        assert_eq!(recs.len(), 9);
        assert_eq!(
            recs.iter().map(|r| r.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>()).next().expect("one"),
            SERVICE_FIELDS
        );
        assert!(recs.iter().any(|r| r.contains(&("service_name".into(), "Повреда".into()))), "Bulgarian names");

        // A service definition.
        let def = get(&format!("{base}services/damage.json"), &[]).json();
        assert_eq!(def["service_code"], "damage");
        let attrs = def["attributes"].as_array().expect("attributes");
        assert!(attrs.iter().any(|a| a["code"] == "place_id"));
        for a in attrs {
            for f in ATTRIBUTE_FIELDS {
                assert!(a.get(f).is_some(), "attribute lacks {f}: {a}");
            }
        }
        let defx = get(&format!("{base}services/rating.xml"), &[]);
        let doc = xml(&defx.body);
        assert_eq!(doc.root_element().tag_name().name(), "service_definition");
        let rating = doc
            .descendants()
            .filter(|n| n.has_tag_name("attribute"))
            .find(|n| n.children().any(|c| c.has_tag_name("code") && c.text() == Some("rating")))
            .expect("rating attribute");
        assert_eq!(rating.descendants().filter(|n| n.has_tag_name("value")).count(), 5, "1 to 5 stars");
        spec_error(&get(&format!("{base}services/graffiti.json"), &[]), 404, true);

        // POST a request (XML answer), with contact details that must never be listed.
        let form = [
            ("api_key", client.as_str()),
            ("jurisdiction_id", "mini.example"),
            ("service_code", "damage"),
            ("lat", "43.2045678"),
            ("long", "27.9112345"),
            ("description", "Pothole in front of the cathedral"),
            ("email", "reporter@example.org"),
            ("first_name", "Ivana"),
            ("phone", "+359 888 123 456"),
            ("attribute[lang]", "en"),
        ];
        let created = post_form(&format!("{base}requests.xml"), &form, &[]);
        assert_eq!(created.status, 200, "{}", created.body);
        let doc = xml(&created.body);
        let recs = xml_records(&doc, "service_requests", "request");
        let id = recs[0].iter().find(|(k, _)| k == "service_request_id").expect("id").1.clone();
        let year = chrono::Utc::now().format("%Y").to_string();
        assert_eq!(id, format!("MINI-{year}-000001"));
        // A client repeating the request after a lost answer gets the same id, and nothing new is stored.
        let again = post_form(&format!("{base}requests.json"), &form, &[]).json();
        assert_eq!(again[0]["service_request_id"], id.as_str());
        assert!(again[0]["service_notice"].as_str().expect("notice").contains("already"));
        assert_eq!(s.count("reports"), 1);
        // A private one: stored, never listed.
        let private = post_form(
            &format!("{base}requests.json"),
            &[
                ("api_key", &client),
                ("service_code", "safety"),
                ("address_string", "Sea Garden gate"),
                ("description", "Loose railing"),
                ("attribute[public]", "false"),
            ],
            &[],
        )
        .json();
        let private_id = private[0]["service_request_id"].as_str().expect("id").to_owned();

        // GET requests: JSON and XML agree; only public reports; rounded positions; no contact details.
        let listed = get(&format!("{base}requests.json"), &[]);
        for secret in ["reporter@example.org", "Ivana", "888 123", "Loose railing"] {
            assert!(!listed.body.contains(secret), "{secret} must not be listed: {}", listed.body);
        }
        let v = listed.json();
        let list = v.as_array().expect("array");
        assert_eq!(list.len(), 1);
        let r = &list[0];
        for f in REQUEST_FIELDS {
            assert!(r.get(f).is_some(), "request lacks {f}: {r}");
        }
        assert_eq!((r["lat"].as_f64(), r["long"].as_f64()), (Some(43.2046), Some(27.9112)), "about 10 m");
        assert_eq!(r["status"], "open");
        assert_eq!(r["agency_responsible"], "Municipal Maintenance");
        rfc3339(r["requested_datetime"].as_str().expect("time"));
        let lx = get(&format!("{base}requests.xml?status=open"), &[]);
        let doc = xml(&lx.body);
        let recs = xml_records(&doc, "service_requests", "request");
        assert_eq!(recs.len(), 1);
        let names: Vec<&str> = recs[0].iter().map(|(k, _)| k.as_str()).collect();
        for f in REQUEST_FIELDS {
            assert!(names.contains(&f), "XML request lacks {f}");
        }
        assert!(recs[0].contains(&("lat".into(), "43.2046".into())));
        assert_eq!(get(&format!("{base}requests/{id}.json"), &[]).json()[0]["service_request_id"], id.as_str());
        spec_error(&get(&format!("{base}requests/{private_id}.json"), &[]), 404, true);
        spec_error(&get(&format!("{base}requests/{private_id}.xml"), &[]), 404, false);
        assert_eq!(get(&format!("{base}requests.json?status=closed"), &[]).json(), serde_json::json!([]));
        assert_eq!(get(&format!("{base}requests.json?service_code=safety"), &[]).json(), serde_json::json!([]));
        assert_eq!(
            get(&format!("{base}requests.json?service_request_id={id},{private_id}"), &[])
                .json()
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        assert_eq!(
            get(&format!("{base}requests.json?start_date=2999-01-01T00:00:00Z"), &[]).json(),
            serde_json::json!([])
        );
        assert_eq!(get(&format!("{base}requests.json?page=2&page_size=1"), &[]).json(), serde_json::json!([]));

        // The office's system reports progress; FixMyStreet's update list shows it.
        let upd = post_form(
            &format!("{base}servicerequestupdates.xml"),
            &[
                ("api_key", &office_system),
                ("service_request_id", &id),
                ("update_id", "w-1"),
                ("status", "FIXED"),
                ("description", "Filled <today>."),
            ],
            &[],
        );
        assert_eq!(upd.status, 200, "{}", upd.body);
        let doc = xml(&upd.body);
        assert!(doc.descendants().any(|n| n.has_tag_name("update_id") && n.text().is_some_and(|t| !t.is_empty())));
        let ups = get(&format!("{base}servicerequestupdates.json"), &[]).json();
        let last = ups.as_array().expect("array").last().expect("an update").clone();
        for f in UPDATE_FIELDS {
            assert!(last.get(f).is_some(), "update lacks {f}: {last}");
        }
        assert_eq!((last["status"].as_str(), last["description"].as_str()), (Some("FIXED"), Some("Filled <today>.")));
        let upx = get(&format!("{base}servicerequestupdates.xml"), &[]);
        let doc = xml(&upx.body);
        let recs = xml_records(&doc, "service_request_updates", "request_update");
        assert!(
            recs.iter().any(|r| r.contains(&("description".into(), "Filled <today>.".into()))),
            "escaped and parsed back"
        );
        assert!(recs.iter().all(|r| !r.iter().any(|(_, v)| v.contains("Loose railing"))));
        let closed = get(&format!("{base}requests.json?status=closed"), &[]).json();
        assert_eq!(closed[0]["status_notes"], "Filled <today>.");
        assert_eq!(closed[0]["detailed_status"], "FIXED");

        // Errors in the spec's format.
        let no_key = post_form(
            &format!("{base}requests.json"),
            &[("service_code", "damage"), ("lat", "43.2"), ("long", "27.9"), ("description", "x")],
            &[],
        );
        assert!(spec_error(&no_key, 403, true).contains("api_key"));
        let wrong = post_form(
            &format!("{base}requests.xml"),
            &[("api_key", "nope"), ("service_code", "damage"), ("lat", "43.2"), ("long", "27.9"), ("description", "x")],
            &[],
        );
        assert!(spec_error(&wrong, 403, false).contains("not valid"));
        let juris = post_form(
            &format!("{base}requests.json"),
            &[
                ("api_key", &client),
                ("jurisdiction_id", "elsewhere"),
                ("service_code", "damage"),
                ("lat", "43.2"),
                ("long", "27.9"),
                ("description", "x"),
            ],
            &[],
        );
        spec_error(&juris, 404, true);
        let client_update = post_form(
            &format!("{base}servicerequestupdates.json"),
            &[("api_key", &client), ("service_request_id", &id), ("update_id", "x"), ("status", "CLOSED")],
            &[],
        );
        spec_error(&client_update, 403, true);
        let other_office = post_form(
            &format!("{base}servicerequestupdates.json"),
            &[("api_key", &museum_system), ("service_request_id", &id), ("update_id", "x"), ("status", "CLOSED")],
            &[],
        );
        spec_error(&other_office, 404, true);
        let bad_status = post_form(
            &format!("{base}servicerequestupdates.json"),
            &[("api_key", &office_system), ("service_request_id", &id), ("update_id", "y"), ("status", "DONE")],
            &[],
        );
        assert!(spec_error(&bad_status, 400, true).contains("not one of"));
        spec_error(&get(&format!("{base}services"), &[]), 404, true);
        spec_error(&get(&format!("{base}requests.json?start_date=yesterday"), &[]), 400, true);
        assert_eq!(
            get(&format!("{base}requests.json"), &[]).json().as_array().map(Vec::len),
            Some(1),
            "errors changed nothing"
        );
        let _: Value = get(&format!("{}metrics", s.url), &[]).body.into();
        s.stop();
    });
}
