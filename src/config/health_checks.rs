//! `[[health]]`: HTTP health checks (the handbooks' `/health` and `/ready`).
//! Each entry says what to request and what a healthy answer looks like; the
//! checks are validated while deserializing so a mistake is reported at its
//! own line and column, naming the entry.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::duration;
use super::secret::Secret;

/// Default for `timeout`: the handbooks' probes give up after 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default for `interval`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
/// Default for `slow`: the handbooks alert on answers over 500 ms.
pub const DEFAULT_SLOW: Duration = Duration::from_millis(500);

/// One `[[health]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawHealthCheck")]
pub struct HealthCheck {
    /// Shown in tab 1 and in the alerts raised for this check.
    pub name: String,
    /// The URL requested as written (http or https, no credentials in it).
    pub url: String,
    /// The request method.
    pub method: ProbeMethod,
    /// Which statuses count as healthy.
    pub expect_status: ExpectStatus,
    /// A substring a healthy body contains (`"ok"`, `"healthy"`).
    pub body_contains: Option<String>,
    /// A field of a JSON body and the value it must have.
    pub json: Option<JsonMatch>,
    /// Longest a probe may take, connecting and reading the body included.
    pub timeout: Duration,
    /// Time between the starts of two probes.
    pub interval: Duration,
    /// A healthy answer slower than this is reported as slow.
    pub slow: Duration,
    /// A PEM file of extra CA certificates, trusted besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Basic-auth user; the password comes from `password`.
    pub username: Option<String>,
    /// Basic-auth password (`password_env`, `password_file` or `password_command`).
    pub password: Option<Secret>,
    /// Bearer token (`bearer_token_env`, `bearer_token_file` or `bearer_token_command`).
    pub bearer_token: Option<Secret>,
}

/// The methods a health endpoint is probed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeMethod {
    /// What load balancers and Kubernetes send.
    #[default]
    Get,
    /// For endpoints that answer by status alone; no body is read.
    Head,
    /// For endpoints that only accept POST (sent with an empty body).
    Post,
}

impl ProbeMethod {
    /// The method as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeMethod::Get => "GET",
            ProbeMethod::Head => "HEAD",
            ProbeMethod::Post => "POST",
        }
    }
}

/// Which statuses a healthy answer may have.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExpectStatus {
    /// Any 2xx, as `curl -f` and the load balancers judge.
    #[default]
    Success,
    /// One of these codes exactly (never empty).
    Codes(Vec<u16>),
}

impl ExpectStatus {
    /// Whether `status` is expected.
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            ExpectStatus::Success => (200..300).contains(&status),
            ExpectStatus::Codes(codes) => codes.contains(&status),
        }
    }
}

/// `2xx`, `204`, `200 or 204`, `200, 204 or 301`: what a failure message says was expected.
impl fmt::Display for ExpectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes = match self {
            ExpectStatus::Success => return f.write_str("2xx"),
            ExpectStatus::Codes(codes) => codes,
        };
        for (i, code) in codes.iter().enumerate() {
            match i {
                0 => {}
                _ if i + 1 == codes.len() => f.write_str(" or ")?,
                _ => f.write_str(", ")?,
            }
            write!(f, "{code}")?;
        }
        Ok(())
    }
}

/// `json_field` + `json_value`: a dotted path into the JSON body and the
/// value found there, compared in its string form (a string as itself, any
/// other JSON value as it is written: `true`, `1`, `null`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonMatch {
    /// E.g. `status` (Spring Boot's `{"status":"UP"}`) or `components.db.status`;
    /// a numeric segment indexes an array.
    pub field: String,
    /// E.g. `UP`.
    pub value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealthCheck {
    name: String,
    url: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    expect_status: Option<RawStatuses>,
    #[serde(default)]
    body_contains: Option<String>,
    #[serde(default)]
    json_field: Option<String>,
    #[serde(default)]
    json_value: Option<RawScalar>,
    #[serde(default = "default_timeout", deserialize_with = "duration::refresh")]
    timeout: Duration,
    #[serde(default = "default_interval", deserialize_with = "duration::refresh")]
    interval: Duration,
    #[serde(default = "default_slow", deserialize_with = "duration::slow")]
    slow: Duration,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
    #[serde(default)]
    password_command: Option<Vec<String>>,
    #[serde(default)]
    bearer_token_env: Option<String>,
    #[serde(default)]
    bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    bearer_token_command: Option<Vec<String>>,
}

fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}

fn default_interval() -> Duration {
    DEFAULT_INTERVAL
}

fn default_slow() -> Duration {
    DEFAULT_SLOW
}

/// `expect_status = 204` or `expect_status = [200, 204]`, kept as written
/// (range-checked in `TryFrom`, where the entry's name is known).
struct RawStatuses(Vec<i64>);

impl<'de> Deserialize<'de> for RawStatuses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawStatuses;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code such as 204 or a list such as [200, 204]")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawStatuses, E> {
                Ok(RawStatuses(vec![v]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawStatuses, E> {
                Ok(RawStatuses(vec![i64::try_from(v).unwrap_or(i64::MAX)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawStatuses, A::Error> {
                let mut codes = Vec::new();
                while let Some(code) = seq.next_element::<i64>()? {
                    codes.push(code);
                }
                Ok(RawStatuses(codes))
            }
        }
        d.deserialize_any(V)
    }
}

/// `json_value = "UP"`, or a bare `true` or `1` for fields that are not strings.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a string, a number or a boolean")]
enum RawScalar {
    String(String),
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl RawScalar {
    /// The string form the JSON value found is compared with.
    fn into_string(self) -> String {
        match self {
            RawScalar::String(s) => s,
            RawScalar::Bool(b) => b.to_string(),
            RawScalar::Int(i) => i.to_string(),
            RawScalar::Float(x) => serde_json::Value::from(x).to_string(),
        }
    }
}

impl TryFrom<RawHealthCheck> for HealthCheck {
    type Error = String;

    fn try_from(r: RawHealthCheck) -> Result<Self, Self::Error> {
        let name = &r.name;
        // The URL and credential rules are `[[prometheus]]`'s, with its wording:
        // one schema, the same words everywhere.
        let url = super::sources::http_url(name, &r.url)?;
        let method = match r.method.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("GET") => ProbeMethod::Get,
            Some("HEAD") => ProbeMethod::Head,
            Some("POST") => ProbeMethod::Post,
            Some(_) => {
                return Err(format!(
                    "{name:?}: method {:?} is not one of GET, HEAD, POST",
                    r.method.unwrap_or_default()
                ));
            }
        };
        let expect_status = match r.expect_status {
            None => ExpectStatus::Success,
            Some(RawStatuses(codes)) if codes.is_empty() => {
                return Err(format!("{name:?}: expect_status lists no code; leave it out to accept any 2xx"));
            }
            Some(RawStatuses(codes)) => {
                let mut out = Vec::with_capacity(codes.len());
                for code in codes {
                    match u16::try_from(code) {
                        Ok(c) if (100..=599).contains(&c) => out.push(c),
                        _ => {
                            return Err(format!(
                                "{name:?}: expect_status {code} is not an HTTP status (100 to 599)"
                            ));
                        }
                    }
                }
                ExpectStatus::Codes(out)
            }
        };
        if r.body_contains.as_deref().is_some_and(str::is_empty) {
            return Err(format!("{name:?}: body_contains must not be empty"));
        }
        let json = match (r.json_field, r.json_value) {
            (None, None) => None,
            (Some(field), Some(value)) => {
                let field = field.trim().to_owned();
                if field.is_empty() || field.split('.').any(str::is_empty) {
                    return Err(format!(
                        "{name:?}: json_field {field:?} must be a dotted path such as \"components.db.status\""
                    ));
                }
                Some(JsonMatch { field, value: value.into_string() })
            }
            (Some(_), None) => return Err(format!("{name:?}: json_field needs json_value = \"...\"")),
            (None, Some(_)) => return Err(format!("{name:?}: json_value needs json_field = \"...\"")),
        };
        if method == ProbeMethod::Head && (r.body_contains.is_some() || json.is_some()) {
            return Err(format!(
                "{name:?}: a HEAD answer has no body, so body_contains and json_field cannot be checked"
            ));
        }
        if r.slow >= r.timeout {
            return Err(format!(
                "{name:?}: slow ({}) must be shorter than timeout ({})",
                humantime::format_duration(r.slow),
                humantime::format_duration(r.timeout)
            ));
        }
        let (password, bearer_token) = super::sources::http_credentials(
            name,
            r.username.as_ref(),
            [r.password_env, r.bearer_token_env],
            [r.password_file, r.bearer_token_file],
            [r.password_command, r.bearer_token_command],
        )?;
        Ok(HealthCheck {
            url: url.to_owned(),
            name: r.name,
            method,
            expect_status,
            body_contains: r.body_contains,
            json,
            timeout: r.timeout,
            interval: r.interval,
            slow: r.slow,
            ca_file: r.ca_file,
            username: r.username,
            password,
            bearer_token,
        })
    }
}

impl super::sources::Named for HealthCheck {
    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        health: Vec<HealthCheck>,
    }

    fn parse(body: &str) -> Result<HealthCheck, String> {
        let src = format!("[[health]]\nname = \"api\"\nurl = \"http://127.0.0.1:8080/health\"\n{body}\n");
        toml::from_str::<Wrapper>(&src).map(|mut w| w.health.remove(0)).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.url, "http://127.0.0.1:8080/health");
        assert_eq!((c.method, &c.expect_status), (ProbeMethod::Get, &ExpectStatus::Success));
        assert_eq!((c.timeout, c.interval, c.slow), (DEFAULT_TIMEOUT, DEFAULT_INTERVAL, DEFAULT_SLOW));
        assert_eq!((c.body_contains, c.json, c.ca_file), (None, None, None));
        assert_eq!((c.username, c.password, c.bearer_token), (None, None, None));
        assert!(c.expect_status.accepts(204) && !c.expect_status.accepts(301));
    }

    #[test]
    fn every_field() {
        let c = parse(
            "method = \"head\"\nexpect_status = [200, 204]\ntimeout = \"2s\"\ninterval = \"1m\"\n\
             slow = \"250ms\"\nca_file = \"/etc/ca.pem\"\nusername = \"ops\"\npassword_env = \"PW\"",
        )
        .unwrap();
        assert_eq!(c.method, ProbeMethod::Head);
        assert_eq!(c.expect_status, ExpectStatus::Codes(vec![200, 204]));
        assert!(c.expect_status.accepts(204) && !c.expect_status.accepts(201));
        assert_eq!((c.timeout, c.interval), (Duration::from_secs(2), Duration::from_secs(60)));
        assert_eq!(c.slow, Duration::from_millis(250));
        assert_eq!(c.password, Some(Secret::Env("PW".into())));
        let c = parse("expect_status = 204\nbody_contains = \"ok\"\nbearer_token_file = \"/t\"").unwrap();
        assert_eq!(c.expect_status, ExpectStatus::Codes(vec![204]));
        assert_eq!(c.body_contains.as_deref(), Some("ok"));
        assert_eq!(c.bearer_token, Some(Secret::File("/t".into())));
        let c =
            parse("method = \"POST\"\njson_field = \"components.db.status\"\njson_value = \"UP\"").unwrap();
        assert_eq!(c.method, ProbeMethod::Post);
        assert_eq!(c.json, Some(JsonMatch { field: "components.db.status".into(), value: "UP".into() }));
        for (raw, want) in [("true", "true"), ("1", "1"), ("1.5", "1.5")] {
            let c = parse(&format!("json_field = \"ok\"\njson_value = {raw}")).unwrap();
            assert_eq!(c.json.map(|j| j.value).as_deref(), Some(want));
        }
    }

    #[test]
    fn expected_statuses_read_as_a_sentence() {
        let s = |codes: &[u16]| ExpectStatus::Codes(codes.to_vec()).to_string();
        assert_eq!(ExpectStatus::Success.to_string(), "2xx");
        assert_eq!(
            (s(&[204]), s(&[200, 204]), s(&[200, 204, 301])),
            ("204".into(), "200 or 204".into(), "200, 204 or 301".into())
        );
    }

    #[test]
    fn errors_name_the_entry() {
        let table = [
            ("slow = \"6s\"", "\"api\": slow (6s) must be shorter than timeout (5s)"),
            ("slow = \"5s\"", "slow (5s) must be shorter than timeout (5s)"),
            ("slow = \"0s\"", "duration \"0s\" is out of range: allowed 1ms to 1h"),
            ("timeout = \"1s\"\nslow = \"2s\"", "slow (2s) must be shorter than timeout (1s)"),
            ("timeout = \"5 parsecs\"", "invalid duration"),
            ("interval = \"10ms\"", "out of range"),
            ("method = \"PUT\"", "\"api\": method \"PUT\" is not one of GET, HEAD, POST"),
            ("expect_status = []", "\"api\": expect_status lists no code"),
            ("expect_status = [200, 700]", "\"api\": expect_status 700 is not an HTTP status"),
            ("expect_status = -1", "expect_status -1 is not an HTTP status"),
            ("expect_status = \"200\"", "a status code such as 204 or a list such as [200, 204]"),
            ("body_contains = \"\"", "\"api\": body_contains must not be empty"),
            ("json_field = \"status\"", "\"api\": json_field needs json_value"),
            ("json_value = \"UP\"", "\"api\": json_value needs json_field"),
            ("json_field = \"a..b\"\njson_value = \"x\"", "must be a dotted path"),
            ("json_field = \"a\"\njson_value = [1]", "a string, a number or a boolean"),
            ("method = \"HEAD\"\nbody_contains = \"ok\"", "\"api\": a HEAD answer has no body"),
            (
                "username = \"u\"\npassword_env = \"A\"\npassword_file = \"/f\"",
                "give only one of password_env",
            ),
            ("username = \"u\"\npassword_env = \"A\"\nbearer_token_env = \"B\"", "not both"),
            ("password_env = \"A\"", "\"api\": a password needs username"),
            ("username = \"u\"\nbearer_token_env = \"B\"", "cannot go with a bearer token"),
            ("password = \"inline\"", "unknown field `password`"),
            ("tls_skip_verify = true", "unknown field `tls_skip_verify`"),
            ("expect = 200", "unknown field `expect`"),
        ];
        for (body, want) in table {
            let err = parse(body).unwrap_err();
            assert!(err.contains(want), "{body}: {err}");
        }
        let url = |u: &str| {
            toml::from_str::<Wrapper>(&format!("[[health]]\nname = \"api\"\nurl = \"{u}\"\n"))
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        assert!(
            url("localhost:8080/health")
                .contains("\"api\": url \"localhost:8080/health\" must start with http://")
        );
        assert!(url("ftp://host/health").contains("must start with http:// or https://"));
        assert!(url("https://ops:pw@host/health").contains("\"api\": no credentials in url"));
        let missing = toml::from_str::<Wrapper>("[[health]]\nname = \"api\"\n").map(|_| ()).unwrap_err();
        assert!(missing.to_string().contains("missing field `url`"), "{missing}");
    }

    #[test]
    fn errors_carry_the_line() {
        let err = parse("\n\nslow = \"6s\"").unwrap_err();
        assert!(err.contains("line 1"), "serde points at the entry: {err}");
    }
}
