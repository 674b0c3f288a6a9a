//! Consultations and participatory budgeting on both back ends, at fixed times: the voting rule checked on the
//! phone offline and again on the server, one changeable ballot per installation, ballots cast before the close
//! but sent after it counted within the grace period, rules fixed once voting opens, and the greedy budget result.

mod common;

use cityguide_core::citizen::CitizenError;
use cityguide_core::citizen::wire::{BallotRequest, VotingRule};
use cityguide_server::store::{self, Consultation, InboxError, Rules};
use common::*;

const OPENS: i64 = 1_800_000_000;
const CLOSES: i64 = 1_800_086_400;
const HOUR: i64 = 3600;

fn ballot(key: u32, inst: char, id: &str, choices: &[&str], seq: i64, cast_at: i64) -> BallotRequest {
    BallotRequest {
        v: 1,
        key: format!("{key:032x}"),
        installation: inst.to_string().repeat(64),
        city_id: "mini".into(),
        consultation_id: id.into(),
        option_id: choices[0].into(),
        option_ids: if choices.len() > 1 { choices.iter().map(|c| (*c).to_owned()).collect() } else { Vec::new() },
        seq,
        cast_at,
    }
}

fn consultation(id: &str, rule: VotingRule, options: &[(&str, i64)]) -> Consultation {
    Consultation {
        city_id: "mini".into(),
        id: id.into(),
        rule,
        options: options.iter().map(|(o, c)| ((*o).to_owned(), *c)).collect(),
        proposals_opens: OPENS - 30 * 86400,
        opens: OPENS,
        closes: CLOSES,
    }
}

fn status(r: Result<&'static str, InboxError>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(InboxError::Refused(s, _)) => s,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn rules_grace_one_ballot_per_installation_and_the_budget_result() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let db = cityguide_server::db::Db::open(&b.fresh_url(tmp.path()), 2).expect("db");
        let rules = Rules { ballot_grace_s: 48 * HOUR, ..Rules::default() };
        db.run_blocking(|c| -> Result<(), InboxError> {
            let budget = consultation(
                "budget",
                VotingRule::Budget { budget: 100 },
                &[("library", 60), ("playground", 50), ("fountain", 30)],
            );
            store::register_consultation(c, &budget, OPENS - 100)?;
            store::register_consultation(
                c,
                &consultation("parks", VotingRule::UpTo { max: 2 }, &[("n", 0), ("s", 0), ("e", 0)]),
                OPENS - 100,
            )?;
            // Before voting opens the city may still change the rules; afterwards not.
            let mut changed = budget.clone();
            changed.rule = VotingRule::Budget { budget: 200 };
            store::register_consultation(c, &changed, OPENS - 50)?;
            let mut late_change = budget.clone();
            late_change.rule = VotingRule::Budget { budget: 1000 };
            let e = store::register_consultation(c, &late_change, OPENS + 10).expect_err("fixed once open");
            assert!(e.to_string().contains("can no longer change"), "{e}");
            store::register_consultation(c, &budget, OPENS - 40)?;
            Ok(())
        })
        .expect("register");
        let at = |c: &mut dyn cityguide_server::db::Conn, b: BallotRequest, now: i64| {
            status(store::store_ballot(c, &b, &rules, now))
        };
        db.run_blocking(|c| -> Result<(), InboxError> {
            assert_eq!(
                at(c, ballot(1, 'a', "budget", &["library", "playground"], 1, OPENS + 5), OPENS + 5),
                422,
                "110 > 100"
            );
            assert_eq!(
                at(c, ballot(2, 'a', "budget", &["library", "fountain"], 1, OPENS + 5), OPENS + 5),
                200,
                "90 fits"
            );
            assert_eq!(
                at(c, ballot(3, 'a', "budget", &["playground", "fountain"], 2, OPENS + 6), OPENS + 6),
                200,
                "changed"
            );
            assert_eq!(
                at(c, ballot(2, 'a', "budget", &["library", "fountain"], 1, OPENS + 5), OPENS + 7),
                200,
                "a retry"
            );
            assert_eq!(at(c, ballot(4, 'b', "budget", &["playground"], 1, OPENS + 8), OPENS + 8), 200);
            assert_eq!(at(c, ballot(5, 'c', "budget", &["library"], 1, OPENS + 9), OPENS + 9), 200);
            assert_eq!(
                at(c, ballot(6, 'd', "budget", &["fountain", "fountain"], 1, OPENS + 9), OPENS + 9),
                422,
                "twice"
            );
            assert_eq!(at(c, ballot(7, 'd', "parks", &["n", "s", "e"], 1, OPENS + 9), OPENS + 9), 422, "at most 2");
            assert_eq!(at(c, ballot(8, 'd', "parks", &["n", "zzz"], 1, OPENS + 9), OPENS + 9), 422, "unknown option");
            assert_eq!(at(c, ballot(9, 'd', "parks", &["n", "s"], 1, OPENS + 9), OPENS + 9), 200);
            assert_eq!(at(c, ballot(10, 'e', "parks", &["n"], 1, OPENS - 1), OPENS - 1), 409, "not open yet");
            // Cast offline before the close, sent after it: counted within the grace period, refused after.
            assert_eq!(
                at(c, ballot(11, 'f', "parks", &["e"], 1, CLOSES - 60), CLOSES + 47 * HOUR),
                200,
                "within grace"
            );
            assert_eq!(at(c, ballot(12, 'g', "parks", &["e"], 1, CLOSES - 60), CLOSES + 49 * HOUR), 409, "grace over");
            assert_eq!(
                at(c, ballot(13, 'h', "parks", &["e"], 1, CLOSES + 10), CLOSES + 20),
                409,
                "cast after the close"
            );
            assert_eq!(
                at(c, ballot(14, 'i', "parks", &["e"], 1, OPENS - 10), CLOSES + 20),
                409,
                "cast before it opened"
            );
            assert_eq!(at(c, ballot(15, 'j', "nothing", &["e"], 1, OPENS + 1), OPENS + 1), 404);
            let tallies = store::results(c, CLOSES + 50 * HOUR)?;
            let budget = tallies.iter().find(|t| t.id == "budget").expect("budget");
            assert_eq!(budget.phase, "results");
            assert_eq!(budget.ballots, 3, "one ballot per installation");
            let count = |id: &str| {
                budget.options.iter().find(|o| o.option == id).map(|o| (o.ballots, o.funded)).expect("option")
            };
            // playground 2 votes (a, b), library 1 (c), fountain 1 (a): greedy by votes within 100: playground 50,
            // then library 60 does not fit, fountain 30 does.
            assert_eq!(count("playground"), (2, true));
            assert_eq!(count("library"), (1, false));
            assert_eq!(count("fountain"), (1, true));
            let parks = tallies.iter().find(|t| t.id == "parks").expect("parks");
            assert_eq!(parks.ballots, 2);
            assert_eq!(parks.options.iter().map(|o| o.ballots).collect::<Vec<_>>(), vec![1, 1, 1]);
            let during = store::results(c, OPENS + 100)?;
            assert_eq!(during[0].phase, "voting");
            Ok(())
        })
        .expect("ballots");
    });
}

#[test]
fn the_phone_checks_the_rule_offline_and_the_server_agrees() {
    each_backend(|b| {
        let tmp = tempfile::tempdir().expect("tmp");
        let pack = mini_pack(tmp.path());
        let s = start(b, tmp.path(), &pack, |_| {});
        let p = phone(tmp.path(), "p", &pack);
        let now = chrono::Utc::now().timestamp();
        let ids = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let e = p.vote_for("mini", "budget", &ids(&["library", "playground"]), now).expect_err("over budget");
        assert!(matches!(e, CitizenError::BallotRule { .. }), "{e}");
        assert!(e.to_string().contains("more than the budget of 100000"), "{e}");
        let e = p.vote_for("mini", "parks", &ids(&["north", "south", "east"]), now).expect_err("three");
        assert!(e.to_string().contains("at most 2"), "{e}");
        assert!(p.outbox().expect("outbox").is_empty(), "refused on the phone: nothing queued");
        let info = p.consultations("mini", now).expect("consultations");
        let budget = info.iter().find(|c| c.id == "budget").expect("budget");
        assert_eq!(budget.rule, VotingRule::Budget { budget: 100_000 });
        assert_eq!(budget.currency.as_deref(), Some("EUR"));
        assert_eq!(budget.phase, "voting");
        assert_eq!(budget.options.iter().map(|o| o.cost).collect::<Vec<_>>(), vec![60_000, 50_000, 30_000]);
        let vote = p.vote_for("mini", "budget", &ids(&["library", "fountain"]), now).expect("fits");
        assert_eq!(vote.choices(), ids(&["library", "fountain"]));
        p.vote_for("mini", "parks", &ids(&["north", "east"]), now).expect("two");
        p.vote("mini", "benches", "yes", now).expect("one");
        let r = p.flush_outbox(&transport(), &s.url, now).expect("flush");
        assert_eq!((r.acknowledged, r.rejected), (3, 0), "{r:?}");
        let tallies = s.db().run_blocking(|c| store::results(c, now)).expect("results");
        let budget = tallies.iter().find(|t| t.id == "budget").expect("budget");
        assert_eq!(
            budget.options.iter().map(|o| (o.option.as_str(), o.ballots)).collect::<Vec<_>>(),
            vec![("library", 1), ("playground", 0), ("fountain", 1)]
        );
        // The inbox shows the result per option.
        user(&s, "admin", "administrator-1", "admin", None);
        let (cookie, _) = sign_in(&s.url, "admin", "administrator-1");
        let page = get(&format!("{}inbox/consultations", s.url), &[("Cookie", &cookie)]);
        assert!(page.body.contains("data-consultation=\"budget\""), "{}", page.body);
        assert!(page.body.contains("data-option=\"library\""));
        // The public result page shows only consultations whose voting has closed.
        let public = get(&format!("{}results/", s.url), &[]);
        assert_eq!(public.status, 200);
        assert!(!public.body.contains("data-consultation"), "nothing while voting is open: {}", public.body);
        s.db()
            .run_blocking(|c| {
                let mut old = consultation("old-square", VotingRule::Single, &[("fountain", 0), ("trees", 0)]);
                old.opens = 1_000;
                old.closes = 2_000;
                store::register_consultation(c, &old, 500)
            })
            .expect("a closed consultation");
        let public = get(&format!("{}results/", s.url), &[]);
        assert!(public.body.contains("data-consultation=\"old-square\""), "{}", public.body);
        assert!(!public.body.contains("data-consultation=\"budget\""), "still open: not shown");
        // A ballot the phone would refuse is refused by the server too.
        let mut cheat = ballot(99, 'f', "budget", &["library", "playground"], 1, now);
        cheat.city_id = "mini".into();
        let a =
            post(&format!("{}v1/ballots", s.url), "application/json", &serde_json::to_vec(&cheat).expect("json"), &[]);
        assert_eq!(a.status, 422, "{}", a.body);
        assert!(a.json()["error"].as_str().expect("error").contains("budget"));
        s.stop();
    });
}
