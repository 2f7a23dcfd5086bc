//! Parsing the recorded status rows of `shapes`: every engine and version
//! spelling, the NULL lag cases and the error columns.

use super::*;

mod shapes;
use shapes::*;

fn fact<'a>(c: &'a Channel, name: &str) -> Option<&'a str> {
    c.facts.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn mysql57_sql_thread_error_is_stopped_with_unknown_lag_never_zero() {
    let c = parse_channel(Engine::MySql, &mysql57_sql_error());
    assert_eq!(c.name, "");
    assert_eq!(c.upstream.as_deref(), Some("10.0.0.11:3306"));
    assert_eq!(c.state, LinkState::Stopped { what: "SQL thread".into() });
    assert_eq!(c.lag, Lag::Unknown("SQL thread stopped".into()));
    assert_eq!(c.lag.seconds(), None);
    assert_eq!(c.lag_source, "Seconds_Behind_Master");
    let err = c.last_error.clone().expect("the SQL error");
    assert!(err.starts_with("SQL error 1062: Could not execute Write_rows"), "{err}");
    assert!(!err.contains("IO error"), "an errno of 0 is no error: {err}");
    assert_eq!(c.apply_backlog_bytes, Some(2214 - 1714));
    assert_eq!(fact(&c, "Executed_Gtid_Set"), Some(format!("{UUID}:1-5").as_str()));
    assert_eq!(fact(&c, "Relay_Log_Space"), Some("1858"));
    assert_eq!(fact(&c, "Read_Master_Log_Pos"), Some("2214"));
    assert_eq!(fact(&c, "Slave_IO_Running"), None, "turned into the state, not repeated");
    assert_eq!(fact(&c, "Replicate_Do_DB"), None, "empty columns are left out");
    assert_eq!(fact(&c, "Last_Error"), None, "the same as Last_SQL_Error");
    assert_eq!(upstream_server_id(&mysql57_sql_error()), Some(1));
}

#[test]
fn mysql8021_named_channel_streams_with_lag_and_no_backlog_across_files() {
    let c = parse_channel(Engine::MySql, &mysql8021_streaming());
    assert_eq!(c.name, "east");
    assert_eq!(c.upstream.as_deref(), Some("db1.example.net:3306"));
    assert_eq!(c.state, LinkState::Streaming);
    assert_eq!(c.lag, Lag::Behind(Duration::from_secs(12)));
    assert_eq!(c.lag_source, "Seconds_Behind_Master");
    assert_eq!(c.last_error, None);
    assert_eq!(c.apply_backlog_bytes, None, "binlog.000012 vs binlog.000011");
    assert_eq!(fact(&c, "Slave_SQL_Running_State"), Some("Waiting for dependent transaction to commit"));
    assert_eq!(fact(&c, "Master_TLS_Version"), Some("TLSv1.2,TLSv1.3"));
    assert_eq!(fact(&c, "Get_master_public_key"), Some("0"));
    assert_eq!(upstream_server_id(&mysql8021_streaming()), Some(11));
}

#[test]
fn mysql84_replica_names_connecting_with_io_error() {
    let c = parse_channel(Engine::MySql, &mysql84_connecting());
    assert_eq!(c.upstream.as_deref(), Some("10.0.0.11:3306"));
    assert_eq!(c.state, LinkState::Connecting);
    assert_eq!(c.lag, Lag::Unknown("IO thread not connected".into()));
    assert_eq!(c.lag_source, "Seconds_Behind_Source");
    let err = c.last_error.clone().expect("the IO error");
    assert!(err.starts_with("IO error 2003: error connecting to source"), "{err}");
    assert_eq!(c.apply_backlog_bytes, Some(0));
    assert_eq!(fact(&c, "Replica_SQL_Running_State").map(|s| s.starts_with("Replica has read")), Some(true));
    assert_eq!(fact(&c, "Source_UUID"), Some(UUID));
    assert_eq!(fact(&c, "Replica_IO_Running"), None);
    assert_eq!(fact(&c, "Seconds_Behind_Source"), None);
}

#[test]
fn mariadb_multi_source_gives_one_channel_per_connection() {
    let [default, b] = mariadb_two_connections();
    let channels: Vec<Channel> =
        [default, b.clone()].iter().map(|r| parse_channel(Engine::MariaDb, r)).collect();
    assert_eq!(channels.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["", "b"]);
    assert_eq!(channels[0].state, LinkState::Streaming);
    assert_eq!(channels[0].lag, Lag::Behind(Duration::ZERO));
    assert_eq!(channels[0].upstream.as_deref(), Some("127.0.0.1:23306"));
    assert_eq!(channels[0].apply_backlog_bytes, Some(63));
    assert_eq!(channels[0].last_error, None);
    assert_eq!(fact(&channels[0], "Gtid_IO_Pos"), Some("0-1-5"));
    assert_eq!(fact(&channels[0], "Using_Gtid"), Some("Slave_Pos"));
    assert_eq!(fact(&channels[0], "Connection_name"), None);
    assert_eq!(channels[1].upstream.as_deref(), Some("127.0.0.1:1"));
    assert_eq!(channels[1].state, LinkState::Connecting);
    assert_eq!(channels[1].lag, Lag::Unknown("IO thread not connected".into()));
    assert!(
        channels[1].last_error.as_deref().is_some_and(|e| e.starts_with("IO error 2003: error connecting"))
    );
    assert_eq!(upstream_server_id(&b), None, "0 before the IO thread ever connected");
}

#[test]
fn thread_combinations_name_what_stopped() {
    let with = |io: &str, sql: &str, behind: Option<&str>| {
        let mut r = mysql8021_streaming();
        for (n, v) in r.iter_mut() {
            match n.as_str() {
                "Slave_IO_Running" => *v = Some(io.into()),
                "Slave_SQL_Running" => *v = Some(sql.into()),
                "Seconds_Behind_Master" => *v = behind.map(Into::into),
                _ => {}
            }
        }
        let c = parse_channel(Engine::MySql, &r);
        (c.state, c.lag)
    };
    let stopped = |what: &str| LinkState::Stopped { what: what.into() };
    assert_eq!(
        with("No", "Yes", None),
        (stopped("IO thread"), Lag::Unknown("IO thread not connected".into()))
    );
    assert_eq!(
        with("No", "No", None),
        (stopped("IO and SQL threads"), Lag::Unknown("SQL thread stopped".into()))
    );
    assert_eq!(with("Connecting", "No", None).0, stopped("SQL thread"));
    assert_eq!(with("Preparing", "Yes", None).0, LinkState::Connecting);
    assert_eq!(with("Yes", "Yes", None).1, Lag::Unknown("not reported".into()));
    assert_eq!(with("No", "Yes", Some("3")).1, Lag::Behind(Duration::from_secs(3)));
}

#[test]
fn downstreams_from_show_replicas_and_show_slave_hosts() {
    // MySQL 8.0.22+ `SHOW REPLICAS`.
    let mysql = row(&[
        ("Server_Id", Some("2")),
        ("Host", Some("db2.example.net")),
        ("Port", Some("3306")),
        ("Source_Id", Some("1")),
        ("Replica_UUID", Some(UUID)),
    ]);
    let d = parse_downstream(&mysql);
    assert_eq!(d.name, "2");
    assert_eq!(d.addr.as_deref(), Some("db2.example.net:3306"));
    assert_eq!(d.state, "");
    assert_eq!(d.lag, Lag::Unknown("see the replica".into()));
    assert_eq!(d.facts, vec![("Source_Id".into(), "1".into()), ("Replica_UUID".into(), UUID.into())]);
    // MariaDB `SHOW SLAVE HOSTS` from a replica without report_host.
    let maria = row(&[
        ("Server_id", Some("3")),
        ("Host", Some("")),
        ("Port", Some("3306")),
        ("Master_id", Some("1")),
    ]);
    let d = parse_downstream(&maria);
    assert_eq!((d.name.as_str(), d.addr), ("3", None));
    let v6 = row(&[("Server_id", Some("4")), ("Host", Some("fd00::4")), ("Port", Some("3307"))]);
    assert_eq!(parse_downstream(&v6).addr.as_deref(), Some("[fd00::4]:3307"));
}

#[test]
fn read_only_values_in_both_spellings() {
    assert_eq!(truthy("1"), Some(true));
    assert_eq!(truthy("OFF"), Some(false));
    assert_eq!(truthy("maybe"), None);
}
