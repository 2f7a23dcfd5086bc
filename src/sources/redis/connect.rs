//! A redis-rs `Client` for one member, built field by field from the cluster
//! config (never from a URL: a URL would carry the password through parsing
//! and error paths).

use ::redis::{Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo, TlsCertificates};

use crate::config::clusters::{Cluster, ClusterKind, MemberAddr, TlsMode};
use crate::config::secret::SecretValue;

const PEM_CERT: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// Where to connect and how, before any byte is sent. Errors are config
/// mistakes, one line each.
pub async fn client(
    cluster: &Cluster,
    member: &MemberAddr,
    password: Option<&SecretValue>,
) -> Result<Client, String> {
    let tls = cluster.tls.effective(ClusterKind::Redis, member);
    let addr = address(member, tls)?;
    let is_tls = matches!(addr, ConnectionAddr::TcpTls { .. });
    let mut settings = RedisConnectionInfo::default()
        // CLIENT SETINFO: one more command per connect that an ACL user
        // limited to +info would see refused in the server's log.
        .set_skip_set_lib_name();
    match (cluster.user.as_deref(), password) {
        (Some(user), Some(password)) => {
            settings = settings.set_username(user).set_password(password.expose());
        }
        (None, Some(password)) => settings = settings.set_password(password.expose()),
        (Some(user), None) => {
            return Err(format!(
                "user {user:?} needs a password (password_env, password_file or password_command; \
                 for a nopass ACL user any value works)"
            ));
        }
        (None, None) => {}
    }
    let info = addr.into_connection_info().map_err(|e| format!("address {member}: {e}"))?;
    let info = info.set_redis_settings(settings);
    match (&cluster.ca_file, is_tls) {
        (Some(path), true) => {
            let pem = tokio::fs::read(path)
                .await
                .map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
            if !pem.windows(PEM_CERT.len()).any(|w| w == PEM_CERT) {
                return Err(format!("ca_file {}: no PEM certificate in it", path.display()));
            }
            // Only these CAs are trusted then: redis-rs replaces its roots
            // with the given ones instead of adding to them.
            let certs = TlsCertificates { client_tls: None, root_cert: Some(pem) };
            Client::build_with_tls(info, certs)
                .map_err(|e| format!("ca_file {}: no usable CA certificate ({e})", path.display()))
        }
        _ => Client::open(info).map_err(|e| format!("member {member}: {e}")),
    }
}

/// The connection address for `member` under the effective `tls` mode.
fn address(member: &MemberAddr, tls: TlsMode) -> Result<ConnectionAddr, String> {
    match (member, tls) {
        // `effective` never returns Auto; treated as Off to stay total.
        (MemberAddr::Socket(path), TlsMode::Off | TlsMode::Auto) => Ok(ConnectionAddr::Unix(path.clone())),
        (MemberAddr::Socket(path), _) => Err(format!(
            "member {}: TLS over a Unix socket is not supported for redis: set tls = \"off\"",
            path.display()
        )),
        (MemberAddr::Tcp { .. }, TlsMode::Prefer) => Err(
            "tls = \"prefer\" is not possible for redis (it cannot negotiate TLS): use \"off\", \"require\" or \"verify\""
                .into(),
        ),
        (MemberAddr::Tcp { host, port }, TlsMode::Off | TlsMode::Auto) => {
            Ok(ConnectionAddr::Tcp(host.clone(), *port))
        }
        (MemberAddr::Tcp { host, port }, TlsMode::Require | TlsMode::Verify) => Ok(ConnectionAddr::TcpTls {
            host: host.clone(),
            port: *port,
            insecure: tls == TlsMode::Require,
            tls_params: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str) -> MemberAddr {
        MemberAddr::Tcp { host: host.into(), port: 6379 }
    }

    #[test]
    fn tls_modes_map_to_addresses() {
        assert_eq!(address(&tcp("db1"), TlsMode::Off), Ok(ConnectionAddr::Tcp("db1".into(), 6379)));
        let verify = address(&tcp("db1"), TlsMode::Verify).expect("verify");
        assert!(matches!(verify, ConnectionAddr::TcpTls { insecure: false, .. }));
        let require = address(&tcp("db1"), TlsMode::Require).expect("require");
        assert!(matches!(require, ConnectionAddr::TcpTls { insecure: true, .. }));
        assert!(address(&tcp("db1"), TlsMode::Prefer).unwrap_err().contains("cannot negotiate"));
        let socket = MemberAddr::Socket("/run/redis.sock".into());
        assert_eq!(address(&socket, TlsMode::Off), Ok(ConnectionAddr::Unix("/run/redis.sock".into())));
        assert!(address(&socket, TlsMode::Verify).unwrap_err().contains("Unix socket"));
    }
}
