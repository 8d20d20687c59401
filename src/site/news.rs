//! "Recently changed" as news: for Bazaar's signed merges, what the merge record says (whose
//! submission, its risk, who approved in which role) instead of the raw commit subject.

use crate::review::MergeRecord;

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// One sentence about a signed merge.
pub fn line(r: &MergeRecord, verified: bool) -> String {
    let from = match (&r.submission, &r.author) {
        (Some(url), Some(who)) => format!(
            "submission {} by {who}",
            url.rsplit('/')
                .next()
                .map_or(url.clone(), |n| format!("#{n}"))
        ),
        (Some(url), None) => format!(
            "submission {}",
            url.rsplit('/')
                .next()
                .map_or(url.clone(), |n| format!("#{n}"))
        ),
        (None, Some(who)) => format!("a submission by {who}"),
        (None, None) => "a submission".to_string(),
    };
    let approvals: Vec<String> = r
        .approvals
        .iter()
        .map(|a| format!("{} ({})", a.login, a.role))
        .collect();
    let approved = if approvals.is_empty() {
        "no approval needed".to_string()
    } else {
        format!("approved by {}", list(&approvals))
    };
    format!(
        "merged from {from}, {} risk, {approved}{}",
        if r.risk.is_empty() {
            "unknown"
        } else {
            &r.risk
        },
        if verified { "; signature verified" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_reads_like_news() {
        let msg = "Merge submission #42: update com.acme.x.y\n\nBazaar-Submission: https://forge.example/acme/cat/pull/42\nBazaar-Author: jane-doe\nBazaar-Head: 0123456789012345678901234567890123456789\nBazaar-Risk: medium\nBazaar-Approval: alice role=security review=101 head=0123456789012345678901234567890123456789 at=2026-11-20T10:00:00Z\nBazaar-Approval: bob role=product-owner review=102 head=0123456789012345678901234567890123456789 at=2026-11-20T11:00:00Z\n";
        let r = MergeRecord::parse(msg).unwrap().unwrap();
        assert_eq!(
            line(&r, true),
            "merged from submission #42 by jane-doe, medium risk, approved by alice (security) and bob (product-owner); signature verified"
        );
    }
}
