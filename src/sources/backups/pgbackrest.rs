//! pgBackRest stanzas: `pgbackrest info --output=json` read into a
//! [`Catalog`], `pgbackrest verify` for the Verify action, and pgBackRest's
//! failures as states an operator acts on.
//!
//! pgBackRest must run as the postgres OS user (`run_as`): run as root it
//! leaves root-owned info files that break `archive-push` afterwards. An
//! encrypted repository's cipher passphrase (the catalog's `password_*`)
//! travels in `PGBACKREST_REPO1_CIPHER_PASS`, never in argv.
//!
//! Written against pgBackRest 2.45; the JSON shapes and status codes are
//! those of pgBackRest's `src/command/info/info.c`.

mod info;
mod outcome;

#[cfg(test)]
mod tests;

pub use info::{BACKUP_ERROR, BACKUP_IN_PROGRESS, parse_info};
pub use outcome::{classify, verify_outcome};

use crate::backups::model::{Catalog, CatalogError, ErrorState};
use crate::config::backups::BackupSource;
use crate::config::secret::SecretValue;
use crate::sources::backups::tool::{self, ToolRun};

/// The environment variable pgBackRest reads repo1's cipher passphrase from
/// (`repo1-cipher-pass`; environment options are `PGBACKREST_` + the
/// upper-cased option name).
pub const CIPHER_PASS_ENV: &str = "PGBACKREST_REPO1_CIPHER_PASS";

/// Console logging off so stdout is only the JSON; warnings and errors on
/// stderr, where [`classify`] finds the `ERROR: [code]: message` line. The
/// command line overrides whatever the config file sets.
const QUIET: [&str; 2] = ["--log-level-console=off", "--log-level-stderr=warn"];

/// Read the stanza's catalog: run `pgbackrest info` as `cfg.run_as` within
/// `cfg.timeout` and parse its JSON.
pub async fn list(cfg: &BackupSource) -> Result<Catalog, CatalogError> {
    let Some(stanza) = cfg.stanza.as_deref() else {
        return Err(CatalogError::new(ErrorState::Failed, "no stanza configured"));
    };
    let env = cipher_env(cfg).await?;
    let run = ToolRun { argv: info_argv(cfg), env, run_as: cfg.run_as.clone(), timeout: cfg.timeout };
    // Boxed: tool::run's future holds its 64 KiB read buffer, and callers
    // that await several listings would otherwise carry one copy each.
    let result = match Box::pin(tool::run(&run)).await {
        Ok(out) if out.code == Some(0) => parse_info(&out.stdout, stanza),
        Ok(out) => Err(classify(&out)),
        Err(e) => Err(e),
    };
    result.map_err(|e| scrub(e, &run.env))
}

/// `pgbackrest [--config=…] --stanza=… --output=json info`, quiet on stdout.
pub fn info_argv(cfg: &BackupSource) -> Vec<String> {
    let mut argv = base_argv(cfg);
    argv.extend(QUIET.iter().map(|s| (*s).to_owned()));
    argv.push("--output=json".into());
    argv.push("info".into());
    argv
}

/// `pgbackrest [--config=…] --stanza=… --output=text verify`: checks every
/// WAL segment and backup file in the repository against its checksum. It
/// exits 0 even when the stanza is unusable, so judge the result with
/// [`verify_outcome`]. Wrap it for `run_as` with [`verify_run`] or
/// [`tool::effective_argv`].
pub fn verify_argv(cfg: &BackupSource) -> Vec<String> {
    let mut argv = base_argv(cfg);
    argv.extend(QUIET.iter().map(|s| (*s).to_owned()));
    // Text output prints nothing when all is valid and a per-stanza report
    // ("status: error" and the reasons) when not.
    argv.push("--output=text".into());
    argv.push("verify".into());
    argv
}

/// Everything the Verify action needs to run: [`verify_argv`], the cipher
/// passphrase in the environment, `run_as`. The timeout is the catalog's
/// poll timeout; a large repository may need the caller to lengthen it.
pub async fn verify_run(cfg: &BackupSource) -> Result<ToolRun, CatalogError> {
    Ok(ToolRun {
        argv: verify_argv(cfg),
        env: cipher_env(cfg).await?,
        run_as: cfg.run_as.clone(),
        timeout: cfg.timeout,
    })
}

fn base_argv(cfg: &BackupSource) -> Vec<String> {
    let mut argv = vec!["pgbackrest".to_owned()];
    if let Some(config) = &cfg.config_file {
        argv.push(format!("--config={}", config.display()));
    }
    if let Some(stanza) = &cfg.stanza {
        argv.push(format!("--stanza={stanza}"));
    }
    argv
}

/// The cipher passphrase as the child's environment, when one is configured.
async fn cipher_env(cfg: &BackupSource) -> Result<Vec<(String, SecretValue)>, CatalogError> {
    let Some(secret) = &cfg.password else {
        return Ok(Vec::new());
    };
    let value = secret.resolve().await.map_err(|e| {
        CatalogError::new(
            ErrorState::WrongPassword,
            format!("cannot read the repository cipher passphrase: {e}"),
        )
    })?;
    Ok(vec![(CIPHER_PASS_ENV.to_owned(), value)])
}

/// Belt and braces: pgBackRest does not print the passphrase, but should a
/// message ever echo it, it must not reach the screen or the logs.
fn scrub(mut err: CatalogError, env: &[(String, SecretValue)]) -> CatalogError {
    for (_, value) in env {
        if !value.expose().is_empty() && err.message.contains(value.expose()) {
            err.message = err.message.replace(value.expose(), "••••");
        }
    }
    err
}
