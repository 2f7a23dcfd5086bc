//! What every HTTP client of opsdeck builds the same way: credentials
//! resolved from the config's secrets, extra CA roots from a PEM file, and
//! transport errors cut down to their innermost cause on one line.

use std::path::Path;

use reqwest::{ClientBuilder, RequestBuilder};

use crate::config::secret::{Secret, SecretValue};

/// How requests to one server authenticate.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials.
    None,
    /// Basic auth; a user may have no password.
    Basic { username: String, password: Option<SecretValue> },
    /// `Authorization: Bearer …`.
    Bearer(SecretValue),
}

impl Auth {
    /// Resolve the configured secrets (a token wins; the config refuses both).
    /// The error names which secret failed, never its value.
    pub async fn resolve(
        username: Option<&String>,
        password: Option<&Secret>,
        bearer_token: Option<&Secret>,
    ) -> Result<Auth, String> {
        Ok(match (username, password, bearer_token) {
            (_, _, Some(token)) => {
                Auth::Bearer(token.resolve().await.map_err(|e| format!("bearer token: {e}"))?)
            }
            (Some(user), pw, None) => {
                let password = match pw {
                    Some(p) => Some(p.resolve().await.map_err(|e| format!("password: {e}"))?),
                    None => None,
                };
                Auth::Basic { username: user.clone(), password }
            }
            (None, _, None) => Auth::None,
        })
    }

    /// Add the credentials to a request. reqwest marks both headers
    /// sensitive, so they stay out of its Debug output.
    pub fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::None => req,
            Auth::Basic { username, password } => {
                req.basic_auth(username, password.as_ref().map(|p| p.expose()))
            }
            Auth::Bearer(token) => req.bearer_auth(token.expose()),
        }
    }
}

/// Trust the certificates of a PEM file besides the system's roots.
pub async fn with_ca_file(
    mut builder: ClientBuilder,
    ca_file: Option<&Path>,
) -> Result<ClientBuilder, String> {
    let Some(path) = ca_file else {
        return Ok(builder);
    };
    let pem =
        tokio::fs::read(path).await.map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("ca_file {} is not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("ca_file {} holds no certificate", path.display()));
    }
    for cert in certs {
        builder = builder.add_root_certificate(cert);
    }
    Ok(builder)
}

/// The last error in a chain (hyper's and rustls's own words), on one line.
pub fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let last = std::iter::successors(Some(e), |e| e.source()).last().unwrap_or(e);
    one_line(&last.to_string())
}

/// The first non-blank line of `s`, trimmed, at most 160 characters.
pub fn one_line(s: &str) -> String {
    let line = s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let mut out: String = line.chars().take(160).collect();
    if line.chars().count() > 160 {
        out.push('…');
    }
    out
}
