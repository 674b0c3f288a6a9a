//! The loop back to the citizen, on both back ends: a phone's report reaches the inbox once, gets a readable
//! reference, an office changes its status with a public reply (in the web inbox and through Open311), and the
//! phone sees it by asking for its own keys; another installation asking for the same key learns nothing.

mod common;

use cityguide_core::citizen::FeedbackDraft;
use cityguide_core::citizen::wire::{StatusAnswer, StatusRequest};
use common::*;

fn draft(text: &str) -> FeedbackDraft {
    FeedbackDraft {
        city_id: "mini".into(),
        place_id: Some("cathedral".into()),
        category: "damage".into(),
        text: text.into(),
        public: true,
        ..FeedbackDraft::default()
    }
}

#[test]
fn the_phone_sees_the_offices_status_and_reply_and_nobody_else_does() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        let a = phone(tmp.path(), "a", &pack);
        let net = transport();

        let item = a.submit_feedback(&draft("The bench by the door is broken"), 1_800_000_000).expect("saved");
        let r = a.flush_outbox(&net, &s.url, 1_800_000_000).expect("flush");
        assert_eq!((r.acknowledged, r.pending), (1, 0));
        // A second report, so the references count.
        a.submit_feedback(&draft("And the lamp"), 1_800_000_001).expect("saved");
        a.flush_outbox(&net, &s.url, 1_800_000_001).expect("flush");

        let refreshed = a.refresh_report_statuses(&net, &s.url, 1_800_000_100).expect("refresh");
        assert_eq!((refreshed.asked, refreshed.answered, refreshed.changed), (2, 2, 2));
        let mine = a.outbox_item(&item.key).expect("read").expect("item");
        let st = mine.office_status.clone().expect("a status from the city");
        let year = chrono::Utc::now().format("%Y").to_string();
        assert_eq!(st.reference, format!("MINI-{year}-000001"), "readable reference");
        assert_eq!(st.status, "open");
        assert_eq!(st.public_reply, None);

        // The office answers through the web inbox.
        user(&s, "maint", "maintenance-pass-1", "staff", Some("Municipal Maintenance"));
        let (cookie, csrf) = sign_in(&s.url, "maint", "maintenance-pass-1");
        let id = s
            .db()
            .run_blocking(|c| cityguide_server::store::report_by_reference(c, &st.reference))
            .expect("db")
            .expect("report")
            .id;
        let changed = post_form(
            &format!("{}inbox/reports/{id}/status", s.url),
            &[("csrf", &csrf), ("status", "action_scheduled"), ("reply", "A carpenter comes on Tuesday.")],
            &[("Cookie", &cookie)],
        );
        assert_eq!(changed.status, 303, "{}", changed.body);
        let r = a.refresh_report_statuses(&net, &s.url, 1_800_000_200).expect("refresh");
        assert_eq!(r.changed, 1, "only the first report changed");
        let st = a.outbox_item(&item.key).expect("read").expect("item").office_status.expect("status");
        assert_eq!(st.status, "action_scheduled");
        assert_eq!(st.public_reply.as_deref(), Some("A carpenter comes on Tuesday."));
        assert!(!st.is_closed());

        // The office's own system reports it fixed through Open311 (twice: the repeat changes nothing).
        let key = api_key(&s, "maintenance-system", Some("Municipal Maintenance"));
        for _ in 0..2 {
            let u = post_form(
                &format!("{}open311/v2/servicerequestupdates.json", s.url),
                &[
                    ("api_key", &key),
                    ("service_request_id", &st.reference),
                    ("update_id", "ext-77"),
                    ("status", "FIXED"),
                    ("description", "Repaired."),
                ],
                &[],
            );
            assert_eq!(u.status, 200, "{}", u.body);
        }
        a.refresh_report_statuses(&net, &s.url, 1_800_000_300).expect("refresh");
        let st = a.outbox_item(&item.key).expect("read").expect("item").office_status.expect("status");
        assert_eq!((st.status.as_str(), st.public_reply.as_deref()), ("fixed", Some("Repaired.")));
        assert!(st.is_closed());
        assert_eq!(s.count("report_updates"), 2 + 2, "two opened, one inbox change, one Open311 update (not two)");

        // Another installation asking for the same key learns nothing, not even that it exists.
        let other = StatusRequest { v: 1, installation: "b".repeat(64), keys: vec![item.key.clone()] };
        let r =
            post(&format!("{}v1/status", s.url), "application/json", &serde_json::to_vec(&other).expect("json"), &[]);
        assert_eq!(r.status, 200);
        let answer: StatusAnswer = serde_json::from_str(&r.body).expect("status answer");
        assert!(answer.reports.is_empty(), "{answer:?}");
        let bad = post(
            &format!("{}v1/status", s.url),
            "application/json",
            br#"{"v":1,"installation":"x","keys":["' OR 1=1 --"]}"#,
            &[],
        );
        assert_eq!(bad.status, 400);

        // Without the feedback consent the phone does not ask.
        a.set_consent(cityguide_core::citizen::ConsentScope::Feedback, false, 1).expect("consent off");
        let e = a.refresh_report_statuses(&net, &s.url, 1_800_000_400).expect_err("no consent");
        assert!(e.to_string().contains("consent"), "{e}");
        s.stop();
    });
}

#[test]
fn merged_duplicates_tell_the_phone_the_original_reference() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        let (a, c) = (phone(tmp.path(), "a", &pack), phone(tmp.path(), "c", &pack));
        let net = transport();
        a.submit_feedback(&draft("Broken bench"), 100).expect("a");
        a.flush_outbox(&net, &s.url, 100).expect("flush");
        let dup = c.submit_feedback(&draft("The bench is broken"), 101).expect("c");
        c.flush_outbox(&net, &s.url, 101).expect("flush");
        let db = s.db();
        let (first, second) = db
            .run_blocking(|conn| {
                let all = cityguide_server::store::list_reports(conn, &Default::default())?;
                Ok::<_, cityguide_server::db::DbError>((all[0].clone(), all[1].clone()))
            })
            .expect("list");
        user(&s, "maint", "maintenance-pass-1", "staff", Some("Municipal Maintenance"));
        let (cookie, csrf) = sign_in(&s.url, "maint", "maintenance-pass-1");
        let r = post_form(
            &format!("{}inbox/reports/{}/merge", s.url, second.id),
            &[("csrf", &csrf), ("original", &first.reference)],
            &[("Cookie", &cookie)],
        );
        assert_eq!(r.status, 303, "{}", r.body);
        c.refresh_report_statuses(&net, &s.url, 200).expect("refresh");
        let st = c.outbox_item(&dup.key).expect("read").expect("item").office_status.expect("status");
        assert_eq!(st.status, "duplicate");
        assert_eq!(st.duplicate_of.as_deref(), Some(first.reference.as_str()));
        assert!(st.public_reply.as_deref().is_some_and(|r| r.contains(&first.reference)), "{st:?}");
        // A report cannot be merged into itself.
        let r = post_form(
            &format!("{}inbox/reports/{}/merge", s.url, first.id),
            &[("csrf", &csrf), ("original", &second.reference)],
            &[("Cookie", &cookie)],
        );
        assert_eq!(r.status, 400, "merging into its own duplicate chain is refused");
        s.stop();
    });
}
