//! The Redis replication source against real Redis 7 servers on loopback:
//! a primary and its replica (polls, writes, a stopped primary, promotion,
//! re-pointing), a single server for authentication and reachability
//! failures, and a TLS-only server for certificate checks.

mod backends;

use std::path::Path;
use std::time::{Duration, Instant};

use backends::redis::{
    BLIND_PASSWORD, BLIND_USER, MONITOR_PASSWORD, MONITOR_USER, PASSWORD, RedisPair, RedisServer, cli,
};
use backends::{free_port, temp_file, wait_for};
use opsdeck::config::clusters::{Cluster, MemberAddr};
use opsdeck::config::secret::SecretValue;
use opsdeck::replication::model::{Lag, LinkState, Role, Status};
use opsdeck::sources::redis::RedisMember;

/// Every member's poll timeout here.
const TIMEOUT: Duration = Duration::from_millis(1500);
/// What a poll may take beyond its timeout (scheduling on a busy machine).
const MARGIN: Duration = Duration::from_millis(1500);
/// How long a state change may take to show.
const DEADLINE: Duration = Duration::from_secs(20);

/// A `[[clusters]]` entry as a user writes it, parsed by the real config
/// loader. `extra` adds lines (user, tls, ca_file…).
fn cluster(member: &str, extra: &str) -> Cluster {
    let toml = format!(
        "[[clusters]]\nname = \"cache\"\nkind = \"redis\"\nmembers = [\"{member}\"]\n\
         timeout = \"1500ms\"\n{extra}"
    );
    let mut config = opsdeck::config::parse(&toml, Path::new("test.toml")).expect("config parses");
    config.clusters.remove(0)
}

fn tcp(port: u16) -> MemberAddr {
    MemberAddr::Tcp { host: "127.0.0.1".into(), port }
}

fn secret(value: &str) -> SecretValue {
    SecretValue::new(value.to_owned())
}

async fn connect(port: u16) -> RedisMember {
    let member = tcp(port);
    let cluster = cluster(&member.to_string(), "");
    RedisMember::connect(&cluster, &member, Some(&secret(PASSWORD))).await.expect("connect")
}

async fn connect_as(port: u16, user: &str, password: &str) -> RedisMember {
    let member = tcp(port);
    let cluster = cluster(&member.to_string(), &format!("user = \"{user}\"\n"));
    RedisMember::connect(&cluster, &member, Some(&secret(password))).await.expect("connect")
}

async fn poll(member: &RedisMember) -> Status {
    member.poll().await.unwrap_or_else(|e| panic!("poll {}: {e}", member.member()))
}

fn fact<'a>(facts: &'a [(String, String)], name: &str) -> Option<&'a str> {
    facts.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_primary_and_its_replica_through_writes_a_stopped_primary_and_a_failover() {
    let pair = RedisPair::start().await;
    let (primary_port, replica_port) = pair.ports();
    let primary = connect(primary_port).await;
    let replica = connect(replica_port).await;

    // The primary: one online downstream, its byte lag known.
    let s = poll(&primary).await;
    assert_eq!(s.role, Role::Primary);
    assert!(s.version.starts_with("Redis "), "{}", s.version);
    assert_eq!(s.read_only, Some(false));
    assert!(s.channels.is_empty());
    assert_eq!(s.downstreams.len(), 1, "{:?}", s.downstreams);
    let d = &s.downstreams[0];
    assert_eq!(d.addr.as_deref(), Some(format!("127.0.0.1:{replica_port}").as_str()));
    assert_eq!(d.state, "online");
    assert!(d.lag_bytes.is_some(), "{d:?}");
    assert!(matches!(d.lag, Lag::Behind(l) if l <= Duration::from_secs(3)), "{:?}", d.lag);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    // The replica: streaming from the primary, read-only, CONFIG readable.
    let s = poll(&replica).await;
    assert_eq!(s.role, Role::Replica);
    assert_eq!(s.read_only, Some(true));
    assert_eq!(s.channels.len(), 1);
    let c = &s.channels[0];
    assert_eq!(c.upstream.as_deref(), Some(format!("127.0.0.1:{primary_port}").as_str()));
    assert_eq!(c.state, LinkState::Streaming);
    assert!(c.lag.seconds().is_some(), "a healthy link has a known lag: {:?}", c.lag);
    assert!(c.applied_position.is_some());
    assert_eq!(fact(&c.facts, "repl-ping-replica-period"), Some("1"), "{:?}", c.facts);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    // Writes move the primary's position, and the replica applies them.
    let before = poll(&primary).await.position.expect("primary position");
    for i in 0..20 {
        cli(primary_port, &["SET", &format!("key{i}"), "value"]);
    }
    let after = poll(&primary).await.position.expect("primary position");
    assert!(after > before, "position {before} -> {after} after 20 writes");
    wait_for("the replica to apply the writes", DEADLINE, || async {
        let applied = poll(&replica).await.channels[0].applied_position?;
        (applied >= after).then_some(())
    })
    .await;
    wait_for("the primary to see the replica acknowledge them", DEADLINE, || async {
        let s = poll(&primary).await;
        let acked: u64 = fact(&s.downstreams.first()?.facts, "offset")?.parse().ok()?;
        (acked >= after).then_some(())
    })
    .await;

    // A monitor user without CONFIG: a warning, read-only state still known.
    let monitor = connect_as(replica_port, MONITOR_USER, MONITOR_PASSWORD).await;
    let s = poll(&monitor).await;
    assert_eq!(s.role, Role::Replica);
    assert_eq!(s.read_only, Some(true), "taken from INFO's slave_read_only");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(
        s.warnings[0].contains(&format!(
            "no permission to run CONFIG GET: grant +config|get to user \"{MONITOR_USER}\""
        )),
        "{}",
        s.warnings[0]
    );

    // The server drops our connection: the poll reconnects instead of failing.
    cli(replica_port, &["CLIENT", "KILL", "TYPE", "normal"]);
    assert_eq!(poll(&replica).await.role, Role::Replica);

    // A stopped primary: its poll gives up within the timeout, its replica's
    // link goes down, and both recover once it continues.
    {
        let _paused = pair.primary.pause();
        let started = Instant::now();
        let err = primary.poll().await.expect_err("a stopped primary cannot answer");
        assert!(started.elapsed() < TIMEOUT + MARGIN, "took {:?}", started.elapsed());
        assert!(err.contains("no answer within"), "{err}");
        let started = Instant::now();
        let err = primary.poll().await.expect_err("still stopped");
        assert!(started.elapsed() < TIMEOUT + MARGIN, "reconnecting took {:?}: {err}", started.elapsed());
        let c = wait_for("the replica's link to go down", DEADLINE, || async {
            let c = poll(&replica).await.channels.remove(0);
            matches!(c.state, LinkState::Stopped { .. }).then_some(c)
        })
        .await;
        assert_eq!(c.state, LinkState::Stopped { what: "link down".into() });
        assert_eq!(c.lag, Lag::Unknown("link down".into()));
    }
    wait_for("the primary to answer again", DEADLINE, || async { primary.poll().await.ok() }).await;
    wait_for("the replica's link to come back", DEADLINE, || async {
        (poll(&replica).await.channels[0].state == LinkState::Streaming).then_some(())
    })
    .await;

    // Failover: promote the replica, then point the old primary at it.
    let msg = replica.promote().await.expect("promote");
    assert!(msg.contains("promoted"), "{msg}");
    let s = poll(&replica).await;
    assert_eq!(s.role, Role::Primary);
    assert_eq!(s.read_only, Some(false));
    assert!(s.channels.is_empty());
    let again = replica.promote().await.expect("promote a primary");
    assert!(again.contains("already a primary"), "{again}");

    let msg = primary.replicate_from("127.0.0.1", replica_port).await.expect("replicate_from");
    assert!(msg.contains(&format!("127.0.0.1:{replica_port}")), "{msg}");
    wait_for("the old primary to stream from the new one", DEADLINE, || async {
        let s = poll(&primary).await;
        let c = s.channels.first()?;
        (s.role == Role::Replica && c.state == LinkState::Streaming).then_some(())
    })
    .await;
    let s = poll(&primary).await;
    assert_eq!(s.channels[0].upstream.as_deref(), Some(format!("127.0.0.1:{replica_port}").as_str()));
    assert_eq!(cli(primary_port, &["GET", "key7"]), "value", "data survived the round trip");
    let s = poll(&replica).await;
    assert_eq!(s.downstreams.len(), 1);
    assert_eq!(s.downstreams[0].addr.as_deref(), Some(format!("127.0.0.1:{primary_port}").as_str()));

    assert!(primary.replicate_from("bad host", 1).await.is_err());
}

#[tokio::test]
async fn authentication_and_reachability_failures_are_one_clear_line() {
    let server = RedisServer::start("").await;
    let member = tcp(server.port);
    let plain = cluster(&member.to_string(), "");

    // A wrong password: refused, and the error does not carry it.
    let wrong = "Wr0ng-S3cret-xyz";
    let err = RedisMember::connect(&plain, &member, Some(&secret(wrong))).await.expect_err("wrong password");
    assert_eq!(err, "password authentication failed for user \"default\"");
    assert!(!err.contains(wrong) && !err.contains(PASSWORD), "{err}");
    let monitor = cluster(&member.to_string(), &format!("user = \"{MONITOR_USER}\"\n"));
    let err =
        RedisMember::connect(&monitor, &member, Some(&secret(wrong))).await.expect_err("wrong password");
    assert_eq!(err, format!("password authentication failed for user \"{MONITOR_USER}\""));
    assert!(!err.contains(wrong), "{err}");
    let err = RedisMember::connect(&monitor, &member, None).await.expect_err("user without password");
    assert!(err.contains("needs a password"), "{err}");

    // No password: the connection opens, INFO is refused with what to set.
    let anonymous = RedisMember::connect(&plain, &member, None).await.expect("connect without auth");
    let err = anonymous.poll().await.expect_err("NOAUTH");
    assert!(err.starts_with("authentication required"), "{err}");

    // A user without +info cannot poll, and is told what to grant.
    let blind = connect_as(server.port, BLIND_USER, BLIND_PASSWORD).await;
    let err = blind.poll().await.expect_err("NOPERM");
    assert_eq!(err, format!("no permission to run INFO: grant +info to user \"{BLIND_USER}\""));

    // The right password, read the way the app reads it: the config's password_file.
    let (_dir, file) = temp_file("redis-password", &format!("{PASSWORD}\n"));
    let with_file = cluster(&member.to_string(), &format!("password_file = \"{}\"\n", file.display()));
    let password =
        with_file.password.as_ref().expect("password configured").resolve().await.expect("resolve");
    let ok = RedisMember::connect(&with_file, &member, Some(&password)).await.expect("connect");
    let s = poll(&ok).await;
    assert_eq!(s.role, Role::Primary);
    assert!(s.downstreams.is_empty());
    let debug = format!("{ok:?}");
    assert!(!debug.contains(PASSWORD) && debug.contains(&member.to_string()), "{debug}");

    // The Unix socket.
    let socket = MemberAddr::Socket(server.socket());
    let via_socket = cluster(&socket.to_string(), "");
    let s = RedisMember::connect(&via_socket, &socket, Some(&password)).await.expect("socket connect");
    assert_eq!(poll(&s).await.role, Role::Primary);

    // Nothing listening: refused at once.
    let closed = tcp(free_port());
    let started = Instant::now();
    let err = RedisMember::connect(&plain, &closed, Some(&password)).await.expect_err("closed port");
    assert!(started.elapsed() < TIMEOUT + MARGIN, "took {:?}", started.elapsed());
    assert_eq!(err, "connection refused");
    let missing = MemberAddr::Socket(server.dir().join("nope.sock"));
    let err = RedisMember::connect(&plain, &missing, Some(&password)).await.expect_err("no socket");
    assert_eq!(err, format!("no socket at {}", server.dir().join("nope.sock").display()));

    // Something else on the port: said so, not a parser's message.
    let http = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let http_member = tcp(http.local_addr().expect("addr").port());
    let answering = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = http.accept().expect("accept");
        let mut request = [0u8; 256];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
    });
    let err = RedisMember::connect(&plain, &http_member, Some(&password)).await.expect_err("not redis");
    assert!(err.starts_with("the answer is not the Redis protocol"), "{err}");
    answering.join().expect("fake server thread");

    // A port that accepts connections but never answers (a hung server):
    // bounded by the timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_member = tcp(silent.local_addr().expect("addr").port());
    let started = Instant::now();
    let err = RedisMember::connect(&plain, &silent_member, Some(&password)).await.expect_err("no answer");
    assert!(started.elapsed() < TIMEOUT + MARGIN, "took {:?}: {err}", started.elapsed());
    assert_eq!(err, "no answer within 1s 500ms");

    // The server goes away under an open connection: the poll fails cleanly.
    drop(server);
    let err = ok.poll().await.expect_err("server gone");
    assert!(!err.contains('\n') && !err.contains(PASSWORD), "{err}");
}

#[tokio::test]
async fn tls_verifies_against_the_ca_file() {
    let server = RedisServer::start_tls().await;
    let member = tcp(server.port);
    let password = secret(PASSWORD);
    let ca = server.ca_file();

    let verify = cluster(&member.to_string(), &format!("tls = \"verify\"\nca_file = \"{}\"\n", ca.display()));
    let tls = RedisMember::connect(&verify, &member, Some(&password)).await.expect("TLS with the CA");
    let s = poll(&tls).await;
    assert_eq!(s.role, Role::Primary);

    // Without the CA the certificate is not trusted.
    let untrusted = cluster(&member.to_string(), "tls = \"verify\"\n");
    let err = RedisMember::connect(&untrusted, &member, Some(&password)).await.expect_err("unknown CA");
    assert_eq!(err, "TLS: the server's certificate is not signed by a trusted CA: set ca_file");

    // Plain text to a TLS port: no answer that parses, within the timeout.
    let started = Instant::now();
    let plain = cluster(&member.to_string(), "tls = \"off\"\n");
    let err = RedisMember::connect(&plain, &member, Some(&password)).await.expect_err("plain to TLS");
    assert!(started.elapsed() < TIMEOUT + MARGIN, "took {:?}: {err}", started.elapsed());

    // Modes redis cannot honour are refused before connecting, clearly.
    let prefer = cluster(&member.to_string(), "tls = \"prefer\"\n");
    let err = RedisMember::connect(&prefer, &member, Some(&password)).await.expect_err("prefer");
    assert!(err.contains("cannot negotiate"), "{err}");
    let require = cluster(&member.to_string(), "tls = \"require\"\n");
    match RedisMember::connect(&require, &member, Some(&password)).await {
        // redis-rs built with tls-rustls-insecure: no certificate check, so it works.
        Ok(m) => assert_eq!(poll(&m).await.role, Role::Primary),
        Err(err) => assert!(err.contains("tls = \"require\""), "{err}"),
    }
    let (_dir, not_pem) = temp_file("ca.pem", "not a certificate");
    let bad_ca =
        cluster(&member.to_string(), &format!("tls = \"verify\"\nca_file = \"{}\"\n", not_pem.display()));
    let err = RedisMember::connect(&bad_ca, &member, Some(&password)).await.expect_err("bad ca_file");
    assert!(err.contains("no PEM certificate"), "{err}");
    assert_eq!(server.cli(&["PING"]), "PONG", "the server itself is fine");
}
