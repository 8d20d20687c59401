//! Every webhook payload of @octokit/webhooks-examples, signed with the test secret, is
//! accepted (2xx); with another secret, a truncated body or no signature it is refused (401);
//! the daemon survives all of it.

use serde_json::Value;

use super::openapi::node_modules;
use super::stand_in::StandIn;
use super::{Daemon, Remote, SECRET};

/// All examples: (event name, payload).
pub fn all() -> Vec<(String, Value)> {
    let path = node_modules().join("@octokit/webhooks-examples/api.github.com/index.json");
    let index: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    index
        .into_iter()
        .flat_map(|e| {
            let name = e["name"].as_str().unwrap().to_string();
            e["examples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| (name.clone(), x.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The first example of an event and action.
pub fn example(event: &str, action: &str) -> Value {
    all()
        .into_iter()
        .find(|(e, v)| e == event && v["action"] == action)
        .unwrap_or_else(|| panic!("no {event}.{action} example"))
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_every_example_payload_is_accepted_signed_and_refused_otherwise() {
    let api = StandIn::start().await;
    let remote = Remote::demo();
    let data = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(&api, remote.bare.path(), &data.path().join("d"), &[]).await;
    let examples = all();
    assert!(examples.len() > 300, "{} examples", examples.len());
    for (i, (event, payload)) in examples.iter().enumerate() {
        let body = serde_json::to_vec(payload).unwrap();
        let id = format!("example-{i}");
        let (s, text) = d.post(event, &id, &body, Some("another secret")).await;
        assert_eq!(s, 401, "{event} with another secret: {text}");
        // Signed over the whole body, sent cut: the signature no longer matches.
        let (s2, _) = {
            let cut = &body[..body.len() / 2];
            let r = reqwest::Client::new()
                .post(format!("{}/webhook", d.url))
                .header("x-github-event", event.as_str())
                .header("x-github-delivery", &id)
                .header("x-hub-signature-256", super::sign(SECRET, &body))
                .body(cut.to_vec())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), ())
        };
        assert_eq!(s2, 401, "{event}: a truncated body must fail the signature");
        let (s, text) = d.post(event, &id, &body, None).await;
        assert_eq!(s, 401, "{event} unsigned: {text}");
        let (s, text) = d.post(event, &id, &body, Some(SECRET)).await;
        assert!((200..300).contains(&s), "{event} #{i}: {s} {text}");
    }
    assert!(d.alive(), "the daemon died:\n{}", d.log());
    let (s, _) = d.get("/healthz").await;
    assert_eq!(s, 200);
    let (_, m) = d.get("/metrics").await;
    assert!(m.contains("outcome=\"unauthorized\""), "{m}");
    d.settle().await;
    assert!(d.alive());
}
