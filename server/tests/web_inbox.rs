//! The office inbox over HTTP on both back ends: sign-in and lockout, session cookies, CSRF, roles (staff see and
//! change only their office's reports, by link or by typed URL; only administrators reach the administration),
//! filters, CSV export, the two languages, and the security headers. The same story in a real browser is
//! `cli/tests/inbox_browser.rs`.

mod common;

use common::*;

fn report(key: u32, office: &str, category: &str, place: &str, text: &str) -> String {
    serde_json::json!({
        "v": 1, "key": format!("{key:032x}"), "installation": "a".repeat(64), "city_id": "mini", "office": office,
        "category": category, "place_id": place, "text": text, "created_at": 1,
        "location": {"lat": 43.2 + f64::from(key) / 1000.0, "lon": 27.9}
    })
    .to_string()
}

fn id_of(s: &TestServer, key: u32) -> i64 {
    let key = format!("{key:032x}");
    s.db()
        .run_blocking(|c| c.one("SELECT id FROM reports WHERE key = $1", &[key.into()]))
        .expect("db")
        .expect("row")
        .i(0)
}

fn status_of(s: &TestServer, id: i64) -> String {
    s.db()
        .run_blocking(|c| c.one("SELECT status FROM reports WHERE id = $1", &[id.into()]))
        .expect("db")
        .expect("row")
        .s(0)
}

#[test]
fn staff_see_and_change_only_their_office_and_forms_need_the_csrf_token() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        let feedback = format!("{}v1/feedback", s.url);
        for (k, office, cat, place, text) in [
            (1, "Municipal Maintenance", "damage", "cathedral", "=HYPERLINK(\"http://evil\")"),
            (2, "Municipal Maintenance", "cleanliness", "sea-garden", "Litter by the gate"),
            (3, "Regional Museum of History", "information", "archaeological-museum", "Wrong opening hours"),
        ] {
            assert_eq!(
                post(&feedback, "application/json", report(k, office, cat, place, text).as_bytes(), &[]).status,
                200
            );
        }
        user(&s, "maint", "maintenance-pass-1", "staff", Some("Municipal Maintenance"));
        user(&s, "museum", "museum-password-1", "staff", Some("Regional Museum of History"));
        user(&s, "admin", "administrator-1", "admin", None);
        let (museum_report, maint_report) = (id_of(&s, 3), id_of(&s, 1));

        // Not signed in: sent to the sign-in page.
        let anon = get(&format!("{}inbox/", s.url), &[]);
        assert_eq!((anon.status, anon.header("location")), (303, Some("/inbox/login")));
        let login = get(&format!("{}inbox/login", s.url), &[]);
        assert!(login.body.contains("<html lang=\"bg\"") && login.body.contains("Вход"), "Bulgarian by default");
        let csp = login.header("content-security-policy").expect("CSP");
        assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"));
        assert_eq!(login.header("x-frame-options"), Some("DENY"));
        let en = get(&format!("{}inbox/login", s.url), &[("Cookie", "cg_lang=en")]);
        assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("Sign in"));

        // Staff of the museum: their report only.
        let (cookie, csrf) = sign_in(&s.url, "museum", "museum-password-1");
        let list = get(&format!("{}inbox/", s.url), &[("Cookie", &cookie)]);
        assert!(list.body.contains("Wrong opening hours"));
        assert!(!list.body.contains("Litter") && !list.body.contains("HYPERLINK"), "no other office's reports");
        let other = get(&format!("{}inbox/reports/{maint_report}", s.url), &[("Cookie", &cookie)]);
        assert_eq!(other.status, 404, "another office's report is not found, by URL either");
        assert!(!other.body.contains("HYPERLINK"));
        let change = post_form(
            &format!("{}inbox/reports/{maint_report}/status", s.url),
            &[("csrf", &csrf), ("status", "closed"), ("reply", "not ours")],
            &[("Cookie", &cookie)],
        );
        assert_eq!(change.status, 404);
        assert_eq!(status_of(&s, maint_report), "open", "unchanged");
        let merge = post_form(
            &format!("{}inbox/reports/{museum_report}/merge", s.url),
            &[("csrf", &csrf), ("original", "whatever")],
            &[("Cookie", &cookie)],
        );
        assert_eq!(merge.status, 404);
        assert_eq!(get(&format!("{}inbox/admin", s.url), &[("Cookie", &cookie)]).status, 404, "no administration");
        let key = post_form(
            &format!("{}inbox/admin/keys", s.url),
            &[("csrf", &csrf), ("name", "mine")],
            &[("Cookie", &cookie)],
        );
        assert_eq!(key.status, 404);
        assert_eq!(s.count("api_keys"), 0);
        let csv = get(&format!("{}inbox/export.csv", s.url), &[("Cookie", &cookie)]);
        assert_eq!(csv.body.lines().count(), 2, "header and the museum's one report: {}", csv.body);
        let csv = get(&format!("{}inbox/export.csv?office=Municipal+Maintenance", s.url), &[("Cookie", &cookie)]);
        assert!(!csv.body.contains("Litter"), "staff cannot widen the export to another office");

        // Without the CSRF token, or with another session's, nothing changes.
        let no_csrf = post_form(
            &format!("{}inbox/reports/{museum_report}/status", s.url),
            &[("status", "fixed")],
            &[("Cookie", &cookie)],
        );
        assert_eq!(no_csrf.status, 403);
        let (admin_cookie, admin_csrf) = sign_in(&s.url, "admin", "administrator-1");
        let wrong_csrf = post_form(
            &format!("{}inbox/reports/{museum_report}/status", s.url),
            &[("csrf", &admin_csrf), ("status", "fixed")],
            &[("Cookie", &cookie)],
        );
        assert_eq!(wrong_csrf.status, 403);
        assert_eq!(status_of(&s, museum_report), "open");
        let bad_status = post_form(
            &format!("{}inbox/reports/{museum_report}/status", s.url),
            &[("csrf", &csrf), ("status", "done")],
            &[("Cookie", &cookie)],
        );
        assert_eq!(bad_status.status, 400);
        let ok = post_form(
            &format!("{}inbox/reports/{museum_report}/status", s.url),
            &[("csrf", &csrf), ("status", "investigating"), ("reply", "Checking the <hours>.")],
            &[("Cookie", &cookie)],
        );
        assert_eq!(
            (ok.status, ok.header("location")),
            (303, Some(format!("/inbox/reports/{museum_report}?saved=1").as_str()))
        );
        let page = get(&format!("{}inbox/reports/{museum_report}?saved=1", s.url), &[("Cookie", &cookie)]);
        assert!(page.body.contains("role=\"status\""), "the change is announced");
        assert!(page.body.contains("Checking the &lt;hours&gt;."));
        assert_eq!(status_of(&s, museum_report), "investigating");

        // The administrator sees every office; filters narrow the list; the export defuses formulas.
        let all = get(&format!("{}inbox/", s.url), &[("Cookie", &admin_cookie)]);
        assert!(all.body.contains("Litter") && all.body.contains("Wrong opening hours"));
        let filtered = get(&format!("{}inbox/?status=investigating", s.url), &[("Cookie", &admin_cookie)]);
        assert!(filtered.body.contains("Wrong opening hours") && !filtered.body.contains("Litter"));
        let by_kind =
            get(&format!("{}inbox/?category=cleanliness&place=sea-garden", s.url), &[("Cookie", &admin_cookie)]);
        assert!(by_kind.body.contains("Litter") && !by_kind.body.contains("Wrong opening"));
        let future = get(&format!("{}inbox/?from=2999-01-01", s.url), &[("Cookie", &admin_cookie)]);
        assert!(!future.body.contains("Litter"));
        assert!(all.body.contains("<svg role=\"img\""), "the map of positions, drawn locally");
        let csv = get(&format!("{}inbox/export.csv", s.url), &[("Cookie", &admin_cookie)]);
        assert!(csv.body.contains("'=HYPERLINK"), "a formula is defused: {}", csv.body);
        let admin = get(&format!("{}inbox/admin", s.url), &[("Cookie", &admin_cookie)]);
        assert_eq!(admin.status, 200);
        let created = post_form(
            &format!("{}inbox/admin/keys", s.url),
            &[("csrf", &admin_csrf), ("name", "fixmystreet")],
            &[("Cookie", &admin_cookie)],
        );
        let loc = created.header("location").expect("redirect").to_owned();
        let secret = loc.split("key=").nth(1).expect("the key once").to_owned();
        assert_eq!(secret.len(), 48);
        let hashes = s.db().run_blocking(|c| c.query("SELECT key_hash FROM api_keys", &[])).expect("db");
        assert!(hashes.iter().all(|h| h.s(0) != secret), "only the hash is stored");

        // Sign out ends the session.
        let out = post_form(&format!("{}inbox/logout", s.url), &[("csrf", &csrf)], &[("Cookie", &cookie)]);
        assert_eq!(out.status, 303);
        assert_eq!(get(&format!("{}inbox/", s.url), &[("Cookie", &cookie)]).status, 303);
        s.stop();
    });
}

#[test]
fn repeated_wrong_passwords_lock_the_account() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        user(&s, "maint", "maintenance-pass-1", "staff", Some("Municipal Maintenance"));
        let try_login = |pw: &str| {
            let r = post_form(&format!("{}inbox/login", s.url), &[("name", "maint"), ("password", pw)], &[]);
            r.header("location").unwrap_or("").to_owned()
        };
        assert_eq!(try_login("nope"), "/inbox/login?e=wrong");
        assert_eq!(try_login("ghost"), "/inbox/login?e=wrong");
        assert_eq!(
            post_form(&format!("{}inbox/login", s.url), &[("name", "nobody"), ("password", "x")], &[])
                .header("location"),
            Some("/inbox/login?e=wrong"),
            "unknown names look the same"
        );
        for _ in 0..2 {
            assert_eq!(try_login("wrong"), "/inbox/login?e=wrong");
        }
        assert!(try_login("fifth").starts_with("/inbox/login?e=locked"), "locked after five failures");
        assert!(try_login("maintenance-pass-1").starts_with("/inbox/login?e=locked"), "even the right password");
        assert_eq!(s.count("sessions"), 0);
        // The lock ends by itself (here: moved into the past).
        s.db().run_blocking(|c| c.execute("UPDATE users SET locked_until = 1", &[])).expect("db");
        assert_eq!(try_login("maintenance-pass-1"), "/inbox/");
        s.stop();
    });
}
