//! The HTTP alert sources against real servers (Alertmanager 0.25,
//! Prometheus 2.42) and a hand-rolled HTTP server for the faults real ones
//! will not produce on demand. Everything on loopback, on its own ports.

mod backends;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backends::fake_http::{FakeServer, Reply, forward};
use backends::{Alertmanager, Prometheus, temp_file, wait_for};
use opsdeck::alerts::model::{self, AlertState, SourceKind};
use opsdeck::config::Config;
use opsdeck::sources::alertmanager::{self, NewSilence, SilenceMatcher, SilenceState};
use opsdeck::sources::http::Endpoint;
use opsdeck::sources::{AlertBatch, Payload, Update, prometheus};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(20);
const SECRET: &str = "s3cret";
/// base64("opsdeck:s3cret"): what basic auth puts on the wire.
const BASIC: &str = "b3BzZGVjazpzM2NyZXQ=";

fn config(toml: &str) -> Config {
    opsdeck::config::parse(toml, Path::new("test.toml")).unwrap()
}

/// An endpoint for one `[[alertmanager]]` entry with `extra` lines.
async fn endpoint(url: &str, extra: &str) -> Endpoint {
    let c = config(&format!("[[alertmanager]]\nname = \"t\"\nurl = \"{url}\"\n{extra}\n"));
    Endpoint::connect(&c.alertmanager[0]).await.unwrap()
}

async fn am_poll(ep: &Endpoint) -> AlertBatch {
    alertmanager::poll(ep, "am").await.unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[tokio::test]
async fn alertmanager_alerts_come_back_parsed_with_its_fingerprint() {
    let am = Alertmanager::start().await;
    let starts =
        jiff::Timestamp::now().round(jiff::Unit::Millisecond).unwrap() - jiff::SignedDuration::from_secs(60);
    let sets = [
        labels(&[("alertname", "DiskFull"), ("instance", "db1:9100"), ("severity", "critical")]),
        // Upper case sorts before lower case, bytewise, as in Go; values may be any UTF-8.
        labels(&[("alertname", "ReplicaLag"), ("Zone", "b"), ("role", "主库 db1"), ("a_b", "x")]),
    ];
    let posted: Vec<_> = sets
        .iter()
        .map(|l| {
            json!({"labels": l, "annotations": {"summary": "disk / is 95% full", "runbook_url": "http://wiki/disk"},
                   "startsAt": starts.to_string(), "generatorURL": "http://prom:9090/graph?g0.expr=x"})
        })
        .collect();
    am.post_alerts(&json!(posted)).await;

    let ep = endpoint(am.url(), "").await;
    let batch = wait_for("both alerts", DEADLINE, || async {
        Some(am_poll(&ep).await).filter(|b| b.alerts.len() == 2)
    })
    .await;
    assert_eq!((batch.source_name.as_str(), batch.kind), ("am", SourceKind::Alertmanager));
    let raw = am.get_json("/api/v2/alerts").await;
    for a in &batch.alerts {
        assert_eq!(&*a.labels, sets.iter().find(|s| s["alertname"] == a.name).unwrap());
        assert_eq!(
            a.fingerprint,
            model::fingerprint(&a.labels),
            "our hash is Alertmanager's, for {:?}",
            a.labels
        );
        let theirs =
            raw.as_array().unwrap().iter().find(|r| r["labels"]["alertname"] == a.name.as_str()).unwrap();
        assert_eq!(theirs["fingerprint"].as_str(), Some(a.fingerprint.as_str()));
        assert_eq!(a.annotation("summary"), Some("disk / is 95% full"));
        assert_eq!(a.annotation("runbook_url"), Some("http://wiki/disk"));
        assert_eq!(a.starts_at, Some(starts));
        assert!(a.ends_at.is_some_and(|e| e > starts));
        assert_eq!(a.generator_url.as_deref(), Some("http://prom:9090/graph?g0.expr=x"));
        assert_eq!(a.state, AlertState::Firing);
        assert_eq!((a.source.as_str(), a.seen_by.as_slice()), ("am", &["am".to_owned()][..]));
    }
}

fn matcher(name: &str, value: &str, is_regex: bool, is_equal: bool) -> SilenceMatcher {
    SilenceMatcher { name: name.into(), value: value.into(), is_regex, is_equal }
}

fn new_silence(comment: &str) -> NewSilence {
    let now = jiff::Timestamp::now();
    NewSilence {
        matchers: vec![
            matcher("alertname", "DiskFull", false, true),
            matcher("instance", "db9", false, false),
            matcher("severity", "crit.*", true, true),
        ],
        starts_at: now,
        ends_at: now + jiff::SignedDuration::from_secs(3600),
        created_by: "opsdeck-test".into(),
        comment: comment.into(),
    }
}

fn state_of(batch: &AlertBatch, instance: &str) -> Option<(AlertState, Vec<String>)> {
    let a = batch.alerts.iter().find(|a| a.labels.get("instance").map(String::as_str) == Some(instance))?;
    Some((a.state, a.silenced_by.clone()))
}

#[tokio::test]
async fn a_silence_silences_and_expiring_it_unsilences() {
    let am = Alertmanager::start().await;
    let alert = |instance: &str| json!({"labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical"}});
    am.post_alerts(&json!([alert("db1"), alert("db9")])).await;
    let ep = endpoint(am.url(), "").await;
    let new = new_silence("kernel upgrade");

    let id = alertmanager::create_silence(&ep, &new).await.unwrap().id;
    let silences = alertmanager::list_silences(&ep).await.unwrap();
    let s = silences.iter().find(|s| s.id == id).unwrap();
    let mut got = s.matchers.clone();
    let mut want = new.matchers.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "equal, not-equal and regex matchers round-trip");
    assert_eq!(
        (s.state, s.created_by.as_str(), s.comment.as_str()),
        (SilenceState::Active, "opsdeck-test", "kernel upgrade")
    );

    let silenced = wait_for("db1 silenced", DEADLINE, || async {
        let b = am_poll(&ep).await;
        Some(b).filter(|b| state_of(b, "db1").is_some_and(|(s, _)| s == AlertState::Silenced))
    })
    .await;
    assert_eq!(state_of(&silenced, "db1"), Some((AlertState::Silenced, vec![id.clone()])));
    assert_eq!(state_of(&silenced, "db9"), Some((AlertState::Firing, vec![])), "instance != db9 spares db9");
    assert!(silenced.silences.iter().any(|s| s.id == id));

    alertmanager::expire_silence(&ep, &id).await.unwrap();
    let after = wait_for("db1 firing again", DEADLINE, || async {
        let b = am_poll(&ep).await;
        Some(b).filter(|b| state_of(b, "db1").is_some_and(|(s, _)| s == AlertState::Firing))
    })
    .await;
    assert_eq!(after.silences.iter().find(|s| s.id == id).map(|s| s.state), Some(SilenceState::Expired));
    // Alertmanager 0.25 answers 200 to expiring an expired silence: expiring is idempotent.
    alertmanager::expire_silence(&ep, &id).await.unwrap();
    let bogus = alertmanager::expire_silence(&ep, "../alerts").await.unwrap_err();
    assert!(bogus.contains("is not a silence id"), "{bogus}");
}

/// A proxy in front of `am` that counts silence POSTs and lets `on_post`
/// (given the count so far) decide how to treat each.
async fn silence_proxy(am: &Alertmanager, on_post: fn(usize) -> PostFate) -> (FakeServer, Arc<AtomicUsize>) {
    let posts = Arc::new(AtomicUsize::new(0));
    let (upstream, counter) = (am.url().to_owned(), posts.clone());
    let proxy = FakeServer::start(move |req| {
        let (upstream, counter) = (upstream.clone(), counter.clone());
        async move {
            if req.method == "POST" && req.path == "/api/v2/silences" {
                match on_post(counter.fetch_add(1, Ordering::SeqCst)) {
                    PostFate::Lost => return Reply::Hang,
                    PostFate::AnsweredLate => {
                        let reply = forward(&upstream, &req).await;
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        return reply;
                    }
                    PostFate::Forwarded => {}
                }
            }
            forward(&upstream, &req).await
        }
    })
    .await;
    (proxy, posts)
}

enum PostFate {
    Lost,
    AnsweredLate,
    Forwarded,
}

#[tokio::test]
async fn a_create_answered_too_late_reuses_the_silence_it_made() {
    let am = Alertmanager::start().await;
    let (proxy, posts) = silence_proxy(&am, |_| PostFate::AnsweredLate).await;
    let ep = endpoint(&proxy.url, "timeout = \"500ms\"").await;
    let started = Instant::now();
    let created = alertmanager::create_silence(&ep, &new_silence("slow answer")).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait for the late answer: {:?}",
        started.elapsed()
    );
    assert!(created.found_after_lost_answer);
    assert_eq!(posts.load(Ordering::SeqCst), 1, "no second POST once the first is found");
    assert_eq!(am.silence_ids_with_comment("slow answer").await, [created.id]);
}

#[tokio::test]
async fn a_create_lost_on_the_way_is_not_sent_again() {
    let am = Alertmanager::start().await;
    let (proxy, posts) =
        silence_proxy(&am, |n| if n == 0 { PostFate::Lost } else { PostFate::Forwarded }).await;
    let ep = endpoint(&proxy.url, "timeout = \"500ms\"").await;
    let err = alertmanager::create_silence(&ep, &new_silence("lost request")).await.unwrap_err();
    // A lost request looks like a held one from here: sending it again could make two.
    assert!(err.contains("not sent again") && err.contains("check the silences list"), "{err}");
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    assert!(am.silence_ids_with_comment("lost request").await.is_empty());
}

#[tokio::test]
async fn a_prometheus_rule_goes_pending_then_firing_and_dedups_with_alertmanager() {
    let am = Alertmanager::start().await;
    let rules = "groups:\n  - name: opsdeck\n    interval: 1s\n    rules:\n      - alert: AlwaysOn\n        \
                 expr: vector(1)\n        for: 2s\n        labels: {severity: warning}\n        \
                 annotations: {summary: always on}\n";
    let prom = Prometheus::start(rules, Some(am.url())).await;
    let c =
        config(&format!("[[prometheus]]\nname = \"prom\"\nurl = \"{}\"\ninterval = \"200ms\"\n", prom.url()));
    let (tx, mut rx) = mpsc::channel::<Update>(16);
    let cancel = CancellationToken::new();
    let name = prometheus::spawn(c.prometheus[0].clone(), Default::default(), tx, cancel.clone());
    assert_eq!(name, "prom");

    let mut seen = Vec::new();
    let until = Instant::now() + DEADLINE;
    let firing = loop {
        let update = tokio::time::timeout_at(until.into(), rx.recv()).await.expect("firing in time").unwrap();
        assert_eq!(update.source, "prom");
        let Ok(Payload::Alerts(batch)) = update.result else { panic!("poll failed: {:?}", update.result) };
        let Some(a) = batch.alerts.into_iter().find(|a| a.name == "AlwaysOn") else { continue };
        assert_eq!(a.value.as_deref(), Some("1e+00"), "{:?}", a.state);
        if seen.last() != Some(&a.state) {
            seen.push(a.state);
        }
        if a.state == AlertState::Firing {
            break a;
        }
    };
    cancel.cancel();
    assert_eq!(seen, [AlertState::Pending, AlertState::Firing]);
    assert_eq!(
        (firing.source_kind, firing.annotation("summary")),
        (SourceKind::Prometheus, Some("always on"))
    );
    assert_eq!(*firing.labels, labels(&[("alertname", "AlwaysOn"), ("severity", "warning")]));

    // Prometheus hands the alert to Alertmanager: the same fingerprint there.
    let ep = endpoint(am.url(), "").await;
    let in_am = wait_for("AlwaysOn in Alertmanager", DEADLINE, || async {
        am_poll(&ep).await.alerts.into_iter().find(|a| a.name == "AlwaysOn")
    })
    .await;
    assert_eq!(in_am.fingerprint, firing.fingerprint);
}

/// Every fault below is polled with a bearer token configured, so each error
/// can be checked for the secret.
const WITH_TOKEN: &str = "timeout = \"500ms\"\nbearer_token_command = [\"printf\", \"s3cret\"]";

#[tokio::test]
async fn faults_read_as_one_clear_line_without_the_secret() {
    let port = backends::free_port(); // bound and released: nothing listens
    let refused = am_err(&format!("http://127.0.0.1:{port}")).await;
    assert_eq!(refused, format!("connection refused by 127.0.0.1:{port}: is the server running?"));

    let gone = FakeServer::answering(Reply::json(
        410,
        r#"{"status":"deprecated","error":"The Alertmanager v1 API was deprecated"}"#,
    ))
    .await;
    let gone = am_err(&gone.url).await;
    assert!(gone.starts_with("HTTP 410 Gone from /api/v2/alerts"), "{gone}");
    assert!(gone.contains("removed v1 API"), "{gone}");

    let old = FakeServer::answering(Reply::Respond {
        status: 404,
        content_type: "text/plain".into(),
        body: "404 page not found\n".into(),
    })
    .await;
    let old = am_err(&old.url).await;
    assert!(
        old.contains("HTTP 404 Not Found") && old.contains("404 page not found") && old.contains("≥ 0.16"),
        "{old}"
    );

    let page = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let bad_gateway = FakeServer::answering(Reply::html(502, page)).await;
    let bad_gateway = prom_err(&bad_gateway.url).await;
    assert_eq!(bad_gateway, "HTTP 502 Bad Gateway from /api/v1/alerts: 502 Bad Gateway");

    let html = FakeServer::answering(Reply::html(200, "<html><title>Grafana</title></html>")).await;
    let html = prom_err(&html.url).await;
    assert!(html.starts_with("answered HTML, not JSON: is the URL the API?"), "{html}");

    let garbage = FakeServer::answering(Reply::json(200, "{\"status\": success}")).await;
    let garbage = prom_err(&garbage.url).await;
    assert!(
        garbage.starts_with("invalid JSON from /api/v1/alerts: expected value at line 1 column 12"),
        "{garbage}"
    );

    let hung = FakeServer::answering(Reply::Hang).await;
    let started = Instant::now();
    let hung = prom_err(&hung.url).await;
    let took = started.elapsed();
    assert_eq!(hung, "no answer in 500ms");
    assert!(took >= Duration::from_millis(500) && took < Duration::from_millis(1500), "took {took:?}");

    let failed_secret = Endpoint::connect(
        &config("[[prometheus]]\nname = \"p\"\nurl = \"http://127.0.0.1:1\"\nbearer_token_command = [\"sh\", \"-c\", \"printf s3cret; exit 1\"]")
            .prometheus[0],
    )
    .await
    .unwrap_err();
    assert!(failed_secret.contains("exited with exit status: 1"), "{failed_secret}");

    for e in [&refused, &gone, &old, &bad_gateway, &html, &garbage, &hung, &failed_secret] {
        assert!(!e.contains(SECRET) && !e.contains(BASIC), "secret in {e:?}");
        assert!(!e.contains('\n'), "one line: {e:?}");
    }
}

async fn am_err(url: &str) -> String {
    alertmanager::poll(&endpoint(url, WITH_TOKEN).await, "am").await.unwrap_err().to_string()
}

async fn prom_err(url: &str) -> String {
    let c = config(&format!("[[prometheus]]\nname = \"p\"\nurl = \"{url}\"\n{WITH_TOKEN}\n"));
    prometheus::poll(&Endpoint::connect(&c.prometheus[0]).await.unwrap(), "p").await.unwrap_err().to_string()
}

#[tokio::test]
async fn credentials_from_a_command_and_a_file_are_sent() {
    let server = FakeServer::start(|req| async move {
        let auth = req.header("authorization").unwrap_or("");
        if auth == format!("Basic {BASIC}") || auth == format!("Bearer {SECRET}") {
            Reply::json(200, r#"{"status":"success","data":{"alerts":[]}}"#)
        } else {
            Reply::json(401, r#"{"status":"error","errorType":"unauthorized","error":"who are you"}"#)
        }
    })
    .await;
    let poll = |extra: String| {
        let url = server.url.clone();
        async move {
            let c = config(&format!("[[prometheus]]\nname = \"p\"\nurl = \"{url}\"\n{extra}\n"));
            let ep = Endpoint::connect(&c.prometheus[0]).await.unwrap();
            let debug = format!("{ep:?}");
            assert!(!debug.contains(SECRET) && !debug.contains("wr0ng"), "secret in Debug: {debug}");
            prometheus::poll(&ep, "p").await.map(|b| b.alerts.len()).map_err(|e| e.to_string())
        }
    };
    let basic = poll("username = \"opsdeck\"\npassword_command = [\"printf\", \"s3cret\"]".into()).await;
    assert_eq!(basic, Ok(0));
    let (_dir, file) = temp_file("token", "s3cret\n");
    let bearer = poll(format!("bearer_token_file = \"{}\"", file.display())).await;
    assert_eq!(bearer, Ok(0));
    let wrong =
        poll("username = \"opsdeck\"\npassword_command = [\"printf\", \"wr0ng\"]".into()).await.unwrap_err();
    assert_eq!(
        wrong,
        "HTTP 401 Unauthorized from /api/v1/alerts: Prometheus error unauthorized: who are you"
    );

    // A refused token is read again before the next poll: rotating it mends the source.
    std::fs::write(&file, "wr0ng").unwrap();
    let c = config(&format!(
        "[[prometheus]]\nname = \"rotating\"\nurl = \"{}\"\ninterval = \"100ms\"\nbearer_token_file = \"{}\"\n",
        server.url,
        file.display()
    ));
    let (tx, mut rx) = mpsc::channel::<Update>(16);
    let cancel = CancellationToken::new();
    prometheus::spawn(c.prometheus[0].clone(), Default::default(), tx, cancel.clone());
    let first = rx.recv().await.unwrap().result.unwrap_err();
    assert!(first.starts_with("HTTP 401 Unauthorized"), "{first}");
    std::fs::write(&file, "s3cret\n").unwrap();
    let mended = tokio::time::timeout(DEADLINE, async { while rx.recv().await.unwrap().result.is_err() {} });
    assert!(mended.await.is_ok(), "the rotated token was never picked up");
    cancel.cancel();
}

#[tokio::test]
async fn a_hung_server_does_not_delay_another() {
    let hung = FakeServer::answering(Reply::Hang).await;
    let fine = FakeServer::answering(Reply::json(200, "[]")).await;
    let c = config(&format!(
        "[[prometheus]]\nname = \"hung\"\nurl = \"{}\"\ntimeout = \"3s\"\n\n\
         [[alertmanager]]\nname = \"fine\"\nurl = \"{}\"\ninterval = \"100ms\"\n",
        hung.url, fine.url
    ));
    let (tx, mut rx) = mpsc::channel::<Update>(64);
    let cancel = CancellationToken::new();
    let spawned = opsdeck::sources::spawn_all(&c, &tx, &cancel);
    assert_eq!(
        spawned.iter().map(|s| (s.name, s.kind)).collect::<Vec<_>>(),
        [("fine", SourceKind::Alertmanager), ("hung", SourceKind::Prometheus)]
    );
    let mut fine_polls = 0;
    while fine_polls < 5 {
        let update = tokio::time::timeout(DEADLINE, rx.recv()).await.unwrap().unwrap();
        assert_eq!(update.source, "fine", "the hung source answered before the fine one polled 5 times");
        assert!(update.result.is_ok());
        fine_polls += 1;
    }
    cancel.cancel();
}
