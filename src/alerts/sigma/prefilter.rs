//! A rule's prefilter: field tests every CloudTrail event it matches passes, each
//! reading one of the few top fields a CloudTrail document's header locates
//! ([`CLOUDTRAIL_FIELDS`]), so an event no rule can match is neither parsed nor evaluated.
//!
//! Derived once, at load time, and conservative: only the selections the condition
//! needs (a selection, or any member of an `and`; nothing under `or` of two or more, or
//! `not`), only selections that are one map of fields (not a list of maps, not keywords),
//! and of those only the tests that read nothing but their own field (no `fieldref`,
//! no field-less keyword tests) on a field whose top-level name is located. These are the
//! rule's own compiled tests, evaluated on an object holding just those top fields, parsed
//! from the same text, and of them only what the prefilters' fields reach
//! ([`reach`](super::reach)): as long as that object holds everything such a test can reach
//! (no fields past the cap, no dotted top key: see [`top_fields`](crate::document)), the
//! test answers exactly as on the whole event. A rule without such a test has no
//! prefilter: every CloudTrail event goes through the full evaluation.

use serde_json::Value;

use super::condition::Expr;
use super::detection::{FieldTest, Selection, Test, ValueTest};
use crate::document::{CLOUDTRAIL_FIELDS, OVERFLOW_KEY};

/// Tests every matching event passes (all of them).
#[derive(Debug, Clone)]
pub struct Prefilter {
    tests: Vec<FieldTest>,
}

impl Prefilter {
    /// The prefilter of a rule with this condition over these selections, if it has one.
    pub(super) fn derive(condition: &Expr, selections: &[Selection]) -> Option<Self> {
        let mut needed = Vec::new();
        necessary(condition, &mut needed);
        let tests: Vec<FieldTest> = needed
            .iter()
            .filter_map(|&i| match selections.get(i)? {
                Selection::Any(groups) if groups.len() == 1 => Some(&groups[0]),
                _ => None,
            })
            .flatten()
            .filter(|t| usable(t))
            .cloned()
            .collect();
        (!tests.is_empty()).then_some(Self { tests })
    }

    /// Whether an event whose located top fields are `top` (an object of those present)
    /// may match: `false` only when the rule cannot match it.
    pub fn passes(&self, top: &Value) -> bool {
        self.tests.iter().all(|t| t.matches(top))
    }

    /// The field names its tests read, in order (`rules check`, tests).
    pub fn fields(&self) -> Vec<&str> {
        self.tests.iter().map(|t| t.field.as_str()).collect()
    }
}

/// The selections `e` cannot be true without.
fn necessary(e: &Expr, out: &mut Vec<usize>) {
    match e {
        Expr::Selection(i) => out.push(*i),
        Expr::And(es) => es.iter().for_each(|e| necessary(e, out)),
        Expr::Or(es) if es.len() == 1 => necessary(&es[0], out),
        Expr::Or(_) | Expr::Not(_) => {}
    }
}

/// A test that reads only its own field, a located top field (or one inside it).
fn usable(t: &FieldTest) -> bool {
    let top = t.field.split('.').next().unwrap_or_default();
    let located = !top.is_empty() && top != OVERFLOW_KEY && CLOUDTRAIL_FIELDS.contains(&top);
    located
        && match &t.test {
            Test::Exists(_) => true,
            Test::Values { tests, .. } => tests
                .iter()
                .all(|v| !matches!(v, ValueTest::FieldRef { .. })),
        }
}
