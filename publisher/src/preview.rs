//! `cityguide pack preview`: one self-contained HTML page that shows a pack the way a department wants to check it
//! before publishing: places and tour paths on a map drawn from the pack's own coordinates (no tiles, no network),
//! filters by category and accessibility, a language switch, each place's card as the phone shows it, and the
//! quality report of `crate::report`.
//!
//! The page is `preview.html` with the pack's content and report embedded as JSON; everything else (drawing,
//! filtering, language fallback) is plain JavaScript in the page, so the file can be mailed or put on any intranet.

use crate::report::{ReportOptions, quality_report};
use cityguide_core::pack::model::Content;

const TEMPLATE: &str = include_str!("preview.html");

/// The preview page of `content`.
pub fn html(content: &Content) -> Result<String, String> {
    let report = quality_report(content, &ReportOptions::default());
    let data = serde_json::json!({ "content": content, "report": report });
    let json = serde_json::to_string(&data).map_err(|e| format!("cannot encode the pack for the preview: {e}"))?;
    let json = script_safe(&json);
    let title = content.meta.name.get(&content.meta.default_language).unwrap_or(&content.meta.city_id);
    let title = title.replace('&', "&amp;").replace('<', "&lt;");
    Ok(TEMPLATE.replacen("/*DATA*/", &json, 1).replacen(
        "<title>Preview</title>",
        &format!("<title>{title} — preview</title>"),
        1,
    ))
}

/// JSON that can sit inside a `<script>` element: inside one, `</` could end the element and `<!--` start a comment.
/// `<` only occurs inside JSON strings, where `\u003c` means the same, so any text a publisher wrote stays data.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    #[test]
    fn publisher_text_cannot_close_the_data_script() {
        let json = r#"{"a":"</script><script>alert(1)</script><!--"}"#;
        let escaped = super::script_safe(json);
        assert!(!escaped.contains("</") && !escaped.contains("<!--"));
        let v: serde_json::Value = serde_json::from_str(&escaped).expect("still JSON");
        assert_eq!(v["a"], "</script><script>alert(1)</script><!--");
    }
}
