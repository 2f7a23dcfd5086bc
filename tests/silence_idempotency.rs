//! Creating and expiring silences through a delaying proxy in front of a real
//! Alertmanager 0.25: whatever the proxy holds (the request before it
//! reaches Alertmanager, or the answer after), one confirmed silence means
//! one POST and one silence in Alertmanager, and an unanswered POST is never
//! sent a second time.

mod backends;

use std::path::Path;
use std::time::Duration;

use backends::delay_proxy::{Delay, DelayProxy};
use backends::{Alertmanager, wait_for};
use opsdeck::sources::alertmanager::{self, NewSilence, SilenceMatcher, SilenceState};
use opsdeck::sources::http::Endpoint;

const DEADLINE: Duration = Duration::from_secs(20);
/// opsdeck's timeout for every request in these tests; its settle window is twice that.
const TIMEOUT: &str = "500ms";

async fn endpoint(url: &str) -> Endpoint {
    let toml = format!("[[alertmanager]]\nname = \"am\"\nurl = \"{url}\"\ntimeout = \"{TIMEOUT}\"\n");
    let config = opsdeck::config::parse(&toml, Path::new("test.toml")).unwrap();
    Endpoint::connect(&config.alertmanager[0]).await.unwrap()
}

fn new_silence(comment: &str) -> NewSilence {
    let now = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap();
    let matcher = |name: &str, value: &str| SilenceMatcher {
        name: name.into(),
        value: value.into(),
        is_regex: false,
        is_equal: true,
    };
    NewSilence {
        matchers: vec![matcher("alertname", "DiskFull"), matcher("instance", "db1:9100")],
        starts_at: now,
        ends_at: now + jiff::SignedDuration::from_secs(3600),
        created_by: "opsdeck-test".into(),
        comment: comment.into(),
    }
}

fn silence_posts(before_forward: Duration, before_answer: Duration) -> Delay {
    Delay { method: "POST", path_prefix: "/api/v2/silences", before_forward, before_answer }
}

#[tokio::test]
async fn a_post_answered_after_the_timeout_is_adopted_not_repeated() {
    let am = Alertmanager::start().await;
    // Alertmanager gets the POST at once; its answer arrives 6 s later, long after 500 ms.
    let proxy = DelayProxy::start(am.url(), silence_posts(Duration::ZERO, Duration::from_secs(6))).await;
    let created = alertmanager::create_silence(&endpoint(&proxy.url).await, &new_silence("late answer"))
        .await
        .expect("the silence is found although its answer was lost");
    assert!(created.found_after_lost_answer);
    assert_eq!(proxy.matched(), 1, "one POST, whatever happened to its answer");
    assert_eq!(am.silence_ids_with_comment("late answer").await, [created.id]);
}

#[tokio::test]
async fn a_post_held_on_its_way_is_waited_for_not_repeated() {
    let am = Alertmanager::start().await;
    // The POST reaches Alertmanager 700 ms after it was sent: after opsdeck's
    // 500 ms timeout, within its 1 s settle window.
    let proxy = DelayProxy::start(am.url(), silence_posts(Duration::from_millis(700), Duration::ZERO)).await;
    let created = alertmanager::create_silence(&endpoint(&proxy.url).await, &new_silence("held request"))
        .await
        .expect("the held POST lands while opsdeck looks for it");
    assert!(created.found_after_lost_answer);
    assert_eq!(proxy.matched(), 1, "not POSTed again while the first was on its way");
    assert_eq!(am.silence_ids_with_comment("held request").await, [created.id]);
}

#[tokio::test]
async fn a_post_that_lands_after_the_window_is_reported_unknown_and_made_once() {
    let am = Alertmanager::start().await;
    // Held 3 s: opsdeck gives up looking after 1 s. The silence lands later.
    let proxy = DelayProxy::start(am.url(), silence_posts(Duration::from_secs(3), Duration::ZERO)).await;
    let err = alertmanager::create_silence(&endpoint(&proxy.url).await, &new_silence("very late"))
        .await
        .expect_err("opsdeck cannot know yet");
    assert!(err.contains("no answer in 500ms") && err.contains("not sent again"), "{err}");
    assert_eq!(proxy.matched(), 1);
    let ids = wait_for("the held POST to land", DEADLINE, || async {
        Some(am.silence_ids_with_comment("very late").await).filter(|ids| !ids.is_empty())
    })
    .await;
    // The proxy saw one POST, so no other silence can land after this one.
    assert_eq!((ids.len(), proxy.matched()), (1, 1), "exactly one silence: {ids:?}");
}

#[tokio::test]
async fn an_expire_held_on_its_way_is_reported_done_once_it_lands() {
    let am = Alertmanager::start().await;
    let direct = endpoint(am.url()).await;
    let created = alertmanager::create_silence(&direct, &new_silence("to expire")).await.unwrap();
    assert!(!created.found_after_lost_answer, "a direct POST is answered");
    let delay = Delay {
        method: "DELETE",
        path_prefix: "/api/v2/silence/",
        before_forward: Duration::from_millis(700),
        before_answer: Duration::ZERO,
    };
    let proxy = DelayProxy::start(am.url(), delay).await;
    alertmanager::expire_silence(&endpoint(&proxy.url).await, &created.id)
        .await
        .expect("the held DELETE lands while opsdeck watches the silence");
    assert_eq!(proxy.matched(), 1, "no second DELETE once the first landed");
    let silences = alertmanager::list_silences(&direct).await.unwrap();
    let state = silences.iter().find(|s| s.id == created.id).map(|s| s.state);
    assert_eq!(state, Some(SilenceState::Expired));
}
