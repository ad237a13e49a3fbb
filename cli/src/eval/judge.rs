//! The judge: a prompt of the sources that grades an answer. It is rendered with the
//! case's input and the answer; the score is read from its model's answer.

use super::assert::{Outcome, Status};
use super::model::Answer;
use super::render::Rendering;
use serde_json::{json, Value};

/// The variables a judge prompt is rendered with (it declares those it uses):
/// `input` (the rendered prompt as text), `answer`, `variables` (the case's, an
/// object: `{{variables}}` renders it as JSON), `case` (its name) and `criteria`.
pub fn variables(
    rendering: &Rendering,
    answer: &Answer,
    case: &str,
    case_variables: &Value,
    criteria: Option<&str>,
) -> Value {
    json!({
        "input": rendering.transcript(),
        "answer": answer.as_text(),
        "variables": case_variables,
        "case": case,
        "criteria": criteria,
    })
}

/// A judge's grade: its score and, when it gave one, its reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    /// The score.
    pub score: f64,
    /// The judge's own words.
    pub reason: Option<String>,
}

/// Reads a score from a judge's answer: a JSON object with a numeric `score` (and a
/// `reason`), alone or inside other text; else the first number after the word
/// "score", or the first number at all; `N/M` reads as N divided by M.
pub fn parse_score(text: &str) -> Option<Grade> {
    if let (Some(start), Some(end)) = (text.find('{'), text.rfind('}')) {
        if let Some(Value::Object(obj)) = text
            .get(start..=end)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        {
            if let Some(score) = obj.get("score").and_then(Value::as_f64) {
                let reason = ["reason", "explanation", "rationale"]
                    .iter()
                    .find_map(|k| obj.get(*k).and_then(Value::as_str))
                    .map(str::to_string);
                return Some(Grade { score, reason });
            }
        }
    }
    let from = text.to_lowercase().find("score").map_or(0, |at| at + 5);
    let rest = text.get(from..).unwrap_or(text);
    let (score, after) = number(rest)?;
    let trimmed = after.trim_start();
    let score = match trimmed
        .strip_prefix('/')
        .and_then(|r| number_at_start(r.trim_start()))
    {
        Some((den, _)) if den > 0.0 => score / den,
        _ => score,
    };
    Some(Grade {
        score,
        reason: None,
    })
}

/// The first number in `s`, and the text after it.
fn number(s: &str) -> Option<(f64, &str)> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    // A minus sign right before the digits belongs to the number.
    let start = if start > 0 && s.as_bytes().get(start - 1) == Some(&b'-') {
        start - 1
    } else {
        start
    };
    number_at_start(s.get(start..)?)
}

/// A number at the very start of `s` (`-`, digits, an optional fraction).
fn number_at_start(s: &str) -> Option<(f64, &str)> {
    let bytes = s.as_bytes();
    let mut end = usize::from(bytes.first() == Some(&b'-'));
    let digits = |from: usize| {
        bytes
            .get(from..)
            .map_or(0, |b| b.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let int = digits(end);
    if int == 0 {
        return None;
    }
    end += int;
    if bytes.get(end) == Some(&b'.') && digits(end + 1) > 0 {
        end += 1 + digits(end + 1);
    }
    let n: f64 = s.get(..end)?.parse().ok()?;
    Some((n, s.get(end..).unwrap_or("")))
}

/// The outcome of a grade against a threshold, naming the judge.
pub fn outcome(answer_text: &str, threshold: f64, judge: &str, judge_hash: &str) -> Outcome {
    let mut o = match parse_score(answer_text) {
        None => Outcome::not(
            Status::Error,
            format!(
                "the judge's answer has no score: {}",
                super::assert::excerpt(answer_text, 0)
            ),
        ),
        Some(g) if g.score >= threshold => {
            let mut o = Outcome::pass();
            o.extra.insert("score".into(), json!(g.score));
            o
        }
        Some(g) => {
            let mut o = Outcome::not(
                Status::Fail,
                match &g.reason {
                    Some(r) => format!("score {} under the threshold {threshold}: {r}", g.score),
                    None => format!("score {} under the threshold {threshold}", g.score),
                },
            );
            o.extra.insert("score".into(), json!(g.score));
            o
        }
    };
    o.extra.insert("threshold".into(), json!(threshold));
    o.extra
        .insert("judge".into(), json!({"prompt": judge, "hash": judge_hash}));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(t: &str) -> Option<f64> {
        parse_score(t).map(|g| g.score)
    }

    #[test]
    fn scores_are_read_from_json_or_text() {
        let g = parse_score("Here: {\"score\": 0.8, \"reason\": \"mostly right\"} done").unwrap();
        assert_eq!(
            g,
            Grade {
                score: 0.8,
                reason: Some("mostly right".into())
            }
        );
        assert_eq!(score("{\"score\": 4}"), Some(4.0));
        assert_eq!(score("Step 1 is fine. Score: 0.75"), Some(0.75));
        assert_eq!(score("I give it 4/5."), Some(0.8));
        assert_eq!(score("Score = 7 / 10"), Some(0.7));
        assert_eq!(score("score: -1"), Some(-1.0));
        assert_eq!(score("no idea"), None);
        assert_eq!(score("{\"verdict\": \"good\"} 3"), Some(3.0));
    }

    #[test]
    fn a_grade_passes_at_the_threshold() {
        let o = outcome("{\"score\": 0.7}", 0.7, "grader", "h");
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.extra["judge"]["prompt"], "grader");
        let o = outcome(
            "{\"score\": 0.2, \"reason\": \"off topic\"}",
            0.7,
            "grader",
            "h",
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.reason.as_deref(),
            Some("score 0.2 under the threshold 0.7: off topic")
        );
        assert_eq!(outcome("dunno", 0.7, "g", "h").status, Status::Error);
    }
}
