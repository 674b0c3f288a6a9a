//! The voting-rule columns of `consultations.csv` (pack format 1.3): read, written into the pack and read back, and
//! every mistake reported at its line and column.

mod common;

use cityguide_core::pack::PackFile;
use cityguide_core::pack::model::VotingRuleRec;
use cityguide_publisher::build::{BuildOptions, Diagnostic, build_pack};
use common::{copy_sources, mini};

const HEADER: &str = "id,options,opens,closes,rule,max_choices,budget,currency,costs,proposals_opens\n";

fn with(rows: &str) -> tempfile::TempDir {
    let dir = copy_sources(&mini());
    std::fs::write(dir.path().join("consultations.csv"), format!("{HEADER}{rows}")).expect("write");
    let mut bg = std::fs::read_to_string(dir.path().join("texts/bg.csv")).expect("read");
    for (c, opts) in [("budget", ["library", "playground", "fountain"]), ("parks", ["north", "south", "east"])] {
        bg += &format!("consultation,{c},Заглавие,Въпрос?,,\n");
        for o in opts {
            bg += &format!("option,{c}/{o},{o},,,\n");
        }
    }
    std::fs::write(dir.path().join("texts/bg.csv"), bg).expect("write");
    dir
}

fn errors(rows: &str) -> Vec<Diagnostic> {
    let dir = with(rows);
    build_pack(dir.path(), &BuildOptions::default()).expect_err("must fail").errors().cloned().collect()
}

/// The character column where field `n` (1-based) of a CSV row without quotes starts.
fn col(row: &str, n: usize) -> usize {
    1 + row.split(',').take(n - 1).map(|f| f.chars().count() + 1).sum::<usize>()
}

fn check(row: &str, field: usize, needle: &str) {
    let e = errors(&format!("{row}\n"));
    has(&e, 2, col(row, field), needle);
}

fn has(errs: &[Diagnostic], line: usize, column: usize, needle: &str) {
    assert!(
        errs.iter().any(|d| d.file == "consultations.csv"
            && d.line == line
            && d.column == column
            && d.message.contains(needle)),
        "no error at consultations.csv:{line}:{column} with {needle:?}: {:#?}",
        errs.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
}

#[test]
fn rules_costs_and_phases_reach_the_pack() {
    let dir = with(
        "budget,library;playground;fountain,2027-03-01,2027-03-31,budget,,100000,EUR,60000;50000;30000,2027-01-15\n\
         parks,north;south;east,2027-03-01,2027-03-31,up_to,2,,,,\n",
    );
    let built = build_pack(dir.path(), &BuildOptions::default()).expect("builds");
    let pack = PackFile::from_bytes(built.bytes.clone()).expect("the reader accepts it");
    let c = pack.to_content();
    assert_eq!(c.consultations, built.content.consultations, "written and read back unchanged");
    let budget = &c.consultations[0];
    assert_eq!(budget.rule, VotingRuleRec::Budget { budget: 100_000 });
    assert_eq!(budget.currency.as_deref(), Some("EUR"));
    assert_eq!(budget.options.iter().map(|o| o.cost).collect::<Vec<_>>(), vec![60_000, 50_000, 30_000]);
    assert!(budget.proposals_opens.is_some_and(|p| p < budget.opens));
    assert_eq!(c.consultations[1].rule, VotingRuleRec::UpTo { max: 2 });
    assert!(pack.info().format_minor >= 3, "voting rules came with format 1.3");
}

#[test]
fn each_mistake_is_reported_where_it_is() {
    // Fields: id 1, options 2, opens 3, closes 4, rule 5, max_choices 6, budget 7, currency 8, costs 9, proposals 10.
    const B: &str = "budget,library;playground;fountain,2027-03-01,2027-03-31,budget";
    check(&format!("{B},,100000,EUR,,"), 9, "rule budget needs costs");
    check(&format!("{B},,100000,EUR,60000;50000,"), 9, "costs has 2 values for 3 options");
    check(&format!("{B},,-5,EUR,1;2;3,"), 7, "positive whole number");
    check(&format!("{B},,100,euro,1;2;3,"), 8, "ISO 4217");
    check(&format!("{B},,100,EUR,1;2;x,"), 9, "cost \"x\" is not a positive whole number");
    const P: &str = "parks,north;south;east,2027-03-01,2027-03-31";
    check(&format!("{P},up_to,4,,,,"), 6, "max_choices");
    check(&format!("{P},ranked,,,,,"), 5, "not single, up_to or budget");
    check(&format!("{P},,,,,,2027-04-01"), 10, "before voting opens");
}
