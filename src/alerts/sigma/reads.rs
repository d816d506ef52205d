//! What a rule's detection reads of an event: the field names its tests name, so that
//! alerting builds no more of an event than the rules that may match it read.

use super::detection::{Detection, Selection, Test, ValueTest};

impl Detection {
    /// The fields it reads of an event, `fieldref` targets too; `None` when it reads
    /// every value (keywords, a test with no field name).
    pub fn fields(&self) -> Option<Vec<&str>> {
        let mut out = Vec::new();
        for selection in &self.selections {
            let Selection::Any(groups) = selection else {
                return None;
            };
            for test in groups.iter().flatten() {
                out.push(test.field.as_str());
                if let Test::Values { tests, .. } = &test.test {
                    out.extend(tests.iter().filter_map(|t| match t {
                        ValueTest::FieldRef { other, .. } => Some(other.as_str()),
                        _ => None,
                    }));
                }
            }
        }
        (!out.contains(&"")).then_some(out)
    }
}
