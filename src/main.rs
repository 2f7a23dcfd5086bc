//! opsdeck's entry point: parse the command line, load config and theme,
//! then run the cockpit or a subcommand. Exit codes: 0 fine, 1 runtime
//! failure, 2 usage, 78 bad config (EX_CONFIG), 128+N killed by signal N.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser};

use opsdeck::app::{self, AppState, RunOptions};
use opsdeck::cli::{Cli, Command, ConfigCommand};
use opsdeck::config::{self, ConfigOrigin, paths};
use opsdeck::theme::{self, Theme};

/// EX_CONFIG from sysexits.h.
const EXIT_CONFIG: u8 = 78;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        None => run_cockpit(&cli),
        Some(Command::Config { action: ConfigCommand::Check { path } }) => {
            config_check(path.as_deref().or(cli.config.as_deref()))
        }
        Some(Command::Config { action: ConfigCommand::Init { path, force } }) => {
            config_init(path.as_deref().or(cli.config.as_deref()), *force)
        }
        Some(Command::Audit { verify: true, .. }) => audit_verify(),
        Some(Command::Audit { since, json, limit, verify: false }) => audit(*since, *json, *limit),
        Some(Command::Alerts { since, json, markdown }) => alerts(*since, *json, *markdown),
        Some(Command::Check { json, markdown }) => check(&cli, *json, *markdown),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(*shell, &mut Cli::command(), "opsdeck", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Some(Command::Supervise { timeout_ms, status_fd, go_fd, argv }) => ExitCode::from(
            opsdeck::ops::supervise::main(Duration::from_millis(*timeout_ms), *status_fd, *go_fd, argv),
        ),
        Some(Command::Man) => match opsdeck::man::render(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("cannot write the man page: {e}")),
        },
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("opsdeck: {msg}");
    ExitCode::FAILURE
}

/// `opsdeck check`. Anything that stops the run (a broken config included)
/// exits 3, "could not be checked", as a monitoring plugin must.
fn check(cli: &Cli, json: bool, markdown: bool) -> ExitCode {
    const UNKNOWN: u8 = 3;
    let mut cfg = match config::load(cli.config.as_deref()) {
        Ok((cfg, _)) => cfg,
        Err(e) => {
            eprintln!("opsdeck: error: {e}");
            return ExitCode::from(UNKNOWN);
        }
    };
    if let Some(refresh) = cli.refresh {
        cfg.refresh = refresh;
    }
    let host = sysinfo::System::host_name().unwrap_or_else(|_| "unknown-host".into());
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("opsdeck: cannot start the async runtime: {e}");
            return ExitCode::from(UNKNOWN);
        }
    };
    let report = match runtime.block_on(opsdeck::check::run(cfg, host)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("opsdeck: {e}");
            return ExitCode::from(UNKNOWN);
        }
    };
    // Pollers still waiting on a hung backend are dropped, not awaited.
    runtime.shutdown_timeout(Duration::from_millis(200));
    let out = match (json, markdown) {
        (true, _) => opsdeck::check::json(&report) + "\n",
        (_, true) => opsdeck::check::markdown(&report),
        _ => opsdeck::check::text(&report),
    };
    print!("{out}");
    ExitCode::from(report.exit_code())
}

fn config_error(e: &impl std::fmt::Display) -> ExitCode {
    eprintln!("opsdeck: error: {e}");
    ExitCode::from(EXIT_CONFIG)
}

fn config_check(path: Option<&Path>) -> ExitCode {
    match config::load(path) {
        Ok((cfg, origin)) => {
            let truecolor = theme::terminal_has_truecolor();
            if let Err(e) = Theme::load(&cfg.theme, paths::themes_dir().as_deref(), truecolor) {
                return config_error(&e);
            }
            match origin {
                ConfigOrigin::File(p) => println!("{}: ok", p.display()),
                ConfigOrigin::Defaults { looked_at: Some(p) } => {
                    println!("{}: not found; the built-in defaults apply", p.display());
                }
                ConfigOrigin::Defaults { looked_at: None } => {
                    println!("no config location; the built-in defaults apply")
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => config_error(&e),
    }
}

fn config_init(path: Option<&Path>, force: bool) -> ExitCode {
    let Some(path) = path.map(Path::to_path_buf).or_else(|| config::resolve_path(None).0) else {
        return fail("no config directory for this user; pass a path");
    };
    if path.exists() && !force {
        return fail(&format!("{} exists; pass --force to overwrite it", path.display()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        return fail(&format!("cannot create {}: {e}", dir.display()));
    }
    match std::fs::write(&path, config::EXAMPLE) {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("cannot write {}: {e}", path.display())),
    }
}

/// Open the state store for a CLI command and run `query` on it. `Ok(None)`
/// when there is no store yet (`missing` says what that means to the reader);
/// `Err` is the exit code after the error was printed.
fn query_store<T, F, Fut>(missing: &str, query: F) -> Result<Option<T>, ExitCode>
where
    F: FnOnce(opsdeck::store::Store) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let Some(path) = opsdeck::store::default_path() else {
        return Err(fail("no data directory for this user"));
    };
    if !path.exists() {
        eprintln!("opsdeck: no state store at {} yet: {missing}", path.display());
        return Ok(None);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(&format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async {
        let store = opsdeck::store::Store::open(&path).await?;
        query(store).await
    });
    result.map(Some).map_err(|e| fail(&e))
}

fn audit(since: Option<Duration>, json: bool, limit: u32) -> ExitCode {
    let query =
        |store: opsdeck::store::Store| async move { opsdeck::ops::audit::recent(&store, since, limit).await };
    let rows = match query_store("nothing has been audited", query) {
        Ok(Some(rows)) => rows,
        Ok(None) => return ExitCode::SUCCESS,
        Err(code) => return code,
    };
    for row in &rows {
        // An unfinished confirmed row is "running in another opsdeck" while the
        // cockpit that wrote it lives, "running, its opsdeck gone" while only
        // its supervisor does, else "outcome unknown".
        let outcome = row.outcome(None);
        if json {
            let mut value = serde_json::to_value(row).unwrap_or_default();
            value["outcome"] = serde_json::Value::String(outcome);
            println!("{value}");
        } else {
            let from = row.ssh_origin.as_deref().map_or_else(String::new, |o| format!("from {o}"));
            println!(
                "{}  {:<16} {:<22} {:<20} {:<24} {}",
                row.started_at, row.who, from, row.action, row.target_name, outcome
            );
            if let Some(claims) = row.claims() {
                println!("    {claims}");
            }
        }
    }
    ExitCode::SUCCESS
}

/// `opsdeck audit --verify`: exit 0 when the chain and the triggers are
/// intact, 1 naming the first broken row and what is wrong.
fn audit_verify() -> ExitCode {
    let query = |store: opsdeck::store::Store| async move { opsdeck::ops::audit_chain::verify(&store).await };
    let verdict = match query_store("nothing to verify", query) {
        Ok(Some(v)) => v,
        Ok(None) => return ExitCode::SUCCESS,
        Err(code) => return code,
    };
    if verdict.problems.is_empty() {
        let legacy = match verdict.legacy_rows {
            0 => String::new(),
            n => format!(" ({n} older rows predate the chain and are not covered)"),
        };
        println!("{}{legacy}", verdict.summary());
        return ExitCode::SUCCESS;
    }
    eprintln!("opsdeck: {}", verdict.summary());
    for p in &verdict.problems {
        eprintln!("  {}", p.what);
    }
    ExitCode::FAILURE
}

fn alerts(since: Duration, json: bool, markdown: bool) -> ExitCode {
    let query =
        |store: opsdeck::store::Store| async move { opsdeck::alerts::history::since(&store, since).await };
    let events = match query_store("no alert history", query) {
        Ok(Some(events)) => events,
        Ok(None) => return ExitCode::SUCCESS,
        Err(code) => return code,
    };
    if markdown {
        print!("{}", opsdeck::alerts::history::markdown(&events));
    } else if json {
        for e in &events {
            println!("{}", serde_json::to_string(e).unwrap_or_default());
        }
    } else {
        for e in &events {
            let change =
                e.from.as_deref().map_or_else(|| format!("→ {}", e.to), |f| format!("{f} → {}", e.to));
            println!(
                "{}  {:<8} {:<24} {:<22} {}",
                e.at,
                e.severity,
                e.name,
                change,
                e.summary.as_deref().unwrap_or("")
            );
        }
    }
    ExitCode::SUCCESS
}

fn run_cockpit(cli: &Cli) -> ExitCode {
    let started = Instant::now();
    limit_malloc_arenas();
    let (mut cfg, origin) = match config::load(cli.config.as_deref()) {
        Ok(pair) => pair,
        Err(e) => return config_error(&e),
    };
    // Nobody at the wall can confirm anything: it only watches.
    cfg.read_only |= cli.read_only || cli.wall;
    if cli.wall && cli.theme.is_none() {
        cfg.theme = "high-contrast".into();
    }
    if let Some(refresh) = cli.refresh {
        cfg.refresh = refresh;
    }
    if !cli.logs.is_empty() {
        cfg.logs = cli.log_sources();
    }
    // An explicit --theme wins over NO_COLOR; NO_COLOR wins over the config.
    let theme_name = match (&cli.theme, theme::no_color_requested()) {
        (Some(name), _) => name.clone(),
        (None, true) => "mono".to_owned(),
        (None, false) => cfg.theme.clone(),
    };
    let theme =
        match Theme::load(&theme_name, paths::themes_dir().as_deref(), theme::terminal_has_truecolor()) {
            Ok(t) => t,
            Err(e) => return config_error(&e),
        };
    for (name, is_tty) in
        [("stdin", std::io::stdin().is_terminal()), ("stdout", std::io::stdout().is_terminal())]
    {
        if !is_tty {
            return fail(&format!(
                "{name} is not a terminal; the cockpit needs one (run it in a terminal or over `ssh -t`)"
            ));
        }
    }
    if let Err(e) = opsdeck::tui::install_panic_hook() {
        return fail(&format!("cannot install the panic hook: {e}"));
    }
    let data_dir = paths::data_dir();
    match opsdeck::logging::init(data_dir.as_deref()) {
        Ok(path) => {
            tracing::info!("opsdeck {} starting; log file {}", env!("CARGO_PKG_VERSION"), path.display())
        }
        Err(e) => tracing::warn!("logging to the in-app view only: {e}"),
    }

    let host = sysinfo::System::host_name().unwrap_or_else(|_| "unknown-host".into());
    let config_path = match origin {
        ConfigOrigin::File(p) => Some(p),
        ConfigOrigin::Defaults { looked_at } => looked_at,
    };
    let mut state = AppState::new(cfg, config_path, theme, host, started);
    if !cli.logs.is_empty() {
        state.tab = opsdeck::ui::Tab::Logs;
    }
    if cli.wall {
        state.wall_mode = Some(opsdeck::app::WallMode::new(state.config.wall.cycle, Instant::now()));
    }
    // Actions run under `opsdeck __supervise`, so their timeouts hold if this process dies.
    match std::env::current_exe() {
        Ok(exe) => opsdeck::ops::run::use_supervisor(exe),
        Err(e) => tracing::warn!("actions run unsupervised: cannot find this binary: {e}"),
    }
    let opts = RunOptions { store_path: opsdeck::store::default_path(), os_user: os_user() };

    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        let mut tui = opsdeck::tui::Tui::enter()?;
        app::run(&mut tui, state, opts).await
    });
    let restored = opsdeck::tui::restore();
    runtime.shutdown_timeout(Duration::from_millis(200));
    match (result, restored) {
        (Ok(exit), _) => ExitCode::from(exit.code() as u8),
        (Err(e), _) => fail(&format!("terminal error: {e}")),
    }
}

/// The session's user: the real uid's name, not `USER` (which anyone can set).
fn os_user() -> String {
    let uid = opsdeck::ops::identity::real_uid();
    opsdeck::ops::identity::user_name(uid).unwrap_or_else(|| format!("uid {uid}"))
}

/// Two glibc malloc arenas instead of one per thread (up to 8 × cores).
/// The log followers allocate each line on a runtime worker and the UI
/// thread frees it when the buffer drops it, so every worker's arena ends
/// up holding freed chunks of its own; following four busy files peaked
/// about 2 MiB higher with the default (scripts/bench-logs.sh, follow x4).
/// A `MALLOC_ARENA_MAX` in the environment is the operator's choice and wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called
        // before the runtime starts any thread, and a refusal (0) leaves
        // the default in place, which is correct, only larger.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
