//! The loop: one `select!` over terminal input, source updates, the clock and
//! signals. Each wake-up drains whatever else is ready, folds it into the
//! state, and draws once. Nothing here waits on a backend.

mod alerts;
pub mod backups;
pub mod checks;
mod dialog;
pub mod fleet;
mod jump;
mod keys;
pub mod logs;
mod modal;
mod pipeline;
mod processes;
pub mod replication;
mod state;
mod targets;
mod wall;

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use alerts::{AlertsPane, Blind, Selected, UnknownSource};
pub use jump::{Choice, JumpMenu, Target};
pub use logs::LogsPane;
pub use modal::{CommandLine, Dialog, Field, Modal};
pub use pipeline::{Pipeline, Run, RunStatus, Submission};
pub use processes::{ProcessList, ProcessSort};
pub use state::{AppState, Effect, NodeHistory, Overlay};
pub use wall::WallMode;

use crate::ops::executor::Sinks;
use crate::sources::{Payload, Update, next_wall_second};
use crate::store::{SessionInfo, StoreInfo};
use crate::tui::Tui;

/// How the run ended, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The operator quit.
    Quit,
    /// A signal asked us to stop; exit with 128 + this number.
    Signal(i32),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> i32 {
        match self {
            Exit::Quit => 0,
            Exit::Signal(n) => 128 + n,
        }
    }
}

/// How long a redraw caused by data (not by a key) waits for more data, so
/// the clock and the pollers that tick with it share one frame.
const COALESCE: Duration = Duration::from_millis(40);

/// Things the loop needs besides the state.
pub struct RunOptions {
    /// Where the state store lives; `None` runs without one.
    pub store_path: Option<std::path::PathBuf>,
    /// OS user, recorded with the session.
    pub os_user: String,
}

/// Start every poller the config names, as the cockpit and `opsdeck check`
/// both run them, and register what the status bar keeps health for.
/// Returns the handle that asks the backup catalogs to rescan now.
pub fn spawn_sources(
    state: &mut AppState,
    store_path: Option<&std::path::Path>,
    tx: &mpsc::Sender<Update>,
    cancel: &CancellationToken,
) -> std::sync::Arc<tokio::sync::Notify> {
    crate::sources::node::spawn(tx.clone(), state.config.refresh, cancel.clone());
    if let Some(flag) = state.config.maintenance.flag_file.clone() {
        crate::sources::maintenance::spawn(flag, tx.clone(), state.config.refresh, cancel.clone());
    }
    for spawned in crate::sources::spawn_all(&state.config, tx, cancel) {
        state.watch_source(spawned.name, spawned.period);
    }
    crate::sources::replication::spawn_all(&state.config.clusters, tx, cancel);
    for check in &state.config.health {
        crate::sources::health_checks::spawn(check.clone(), tx.clone(), cancel.clone());
    }
    // The config was checked at load: every name `[fleet] prometheus` gives exists.
    let fleet_servers = state.config.fleet.servers(&state.config.prometheus).unwrap_or_default();
    let fleet_servers: Vec<_> = fleet_servers.into_iter().cloned().collect();
    for server in fleet_servers {
        let fleet = state.config.fleet.clone();
        let name = crate::sources::fleet::spawn_prometheus(server, fleet, tx.clone(), cancel.clone());
        state.watch_source(name, state.config.fleet.interval);
    }
    for target in &state.config.nodes {
        crate::sources::fleet::spawn_node(target.clone(), tx.clone(), cancel.clone());
    }
    let rescan_backups = crate::sources::backups::spawn_all(&state.config.backups, tx, cancel);
    // With no [[logs]], the defaults include opsdeck's own log, in the data dir beside the store.
    let own_log = store_path.and_then(std::path::Path::parent).map(|d| d.join("opsdeck.log"));
    let log_sources = crate::sources::logs::resolve(&state.config.logs, own_log.as_deref());
    state.logs = LogsPane::for_sources(&log_sources, state.config.tail.buffer_lines);
    crate::sources::logs::spawn_all(&log_sources, &state.config.tail, tx, cancel);
    rescan_backups
}

/// Run until quit or a terminating signal. The caller restores the terminal.
pub async fn run(tui: &mut Tui, mut state: AppState, opts: RunOptions) -> std::io::Result<Exit> {
    let cancel = CancellationToken::new();
    let (tx, mut updates) = mpsc::channel::<Update>(256);
    crate::logging::spawn_mover(cancel.clone());
    let rescan_backups = spawn_sources(&mut state, opts.store_path.as_deref(), &tx, &cancel);
    if !state.config.backups.is_empty() {
        // Checks are read once the store opens, and again after each check.
        state.backups.reload_checks = true;
    }
    // Alert history and acks go through one task, started when the store opens.
    let (jobs_tx, jobs_rx) = mpsc::channel::<crate::alerts::history::Job>(256);
    let mut jobs_rx = Some(jobs_rx);

    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigquit = signal(SignalKind::quit())?;
    // Handled, so the terminal is given back before stopping (`tui.stop`).
    let mut sigtstp = signal(SignalKind::from_raw(libc::SIGTSTP))?;
    let mut sigcont = signal(SignalKind::from_raw(libc::SIGCONT))?;
    let mut clock =
        tokio::time::interval_at(next_wall_second(Duration::from_millis(5)), Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    tick_clock(&mut state);
    tui.draw(&state)?;
    if std::env::var_os("OPSDECK_TEST_PANIC_AFTER_FIRST_FRAME").is_some() {
        panic!("test panic requested by OPSDECK_TEST_PANIC_AFTER_FIRST_FRAME");
    }

    // The store opens after the first frame so it never delays it.
    if let Some(path) = opts.store_path.clone() {
        let tx = tx.clone();
        let host = state.host.clone();
        let who_user = opts.os_user.clone();
        let read_only = state.config.read_only;
        tokio::spawn(async move {
            let who = SessionInfo { host: &host, os_user: &who_user, read_only };
            let result = crate::store::open_and_begin(path, who).await;
            let store = result.as_ref().ok().map(|info| info.store.clone());
            let _ = tx.send(Update::now(crate::store::SOURCE, result.map(Payload::Store))).await;
            if let Some(store) = store {
                crate::ops::executor::send_trail(&store, &tx).await;
                // A tampered trail turns the store source red in the status bar.
                crate::ops::executor::send_chain_check(&store, &tx).await;
            }
        });
    }

    let mut store: Option<StoreInfo> = None;
    // Keys redraw at once; data redraws wait until this deadline.
    let mut draw_at: Option<tokio::time::Instant> = None;
    let exit = loop {
        let mut effect = Effect::None;
        // A key, or a source's first data: draw now rather than coalesce.
        let mut urgent = false;
        let deadline = draw_at.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    urgent = true;
                    effect = handle_event(&mut state, &ev, tui.width());
                }
                Some(Err(e)) => break Err(e),
                None => break Ok(Exit::Quit), // the terminal went away
            },
            Some(update) = updates.recv() => urgent = fold(&mut state, &mut store, update),
            _ = clock.tick() => {
                tick_clock(&mut state);
                state.tick();
            }
            () = tokio::time::sleep_until(deadline), if draw_at.is_some() => {}
            _ = sigterm.recv() => break Ok(Exit::Signal(libc::SIGTERM)),
            _ = sighup.recv() => break Ok(Exit::Signal(libc::SIGHUP)),
            _ = sigint.recv() => break Ok(Exit::Signal(libc::SIGINT)),
            _ = sigquit.recv() => break Ok(Exit::Signal(libc::SIGQUIT)),
            _ = sigtstp.recv() => {
                tui.stop()?;
                effect = Effect::Repaint;
            }
            // Continued after a stop we did not see (SIGSTOP): take the terminal again.
            _ = sigcont.recv() => {
                tui.resume()?;
                effect = Effect::Repaint;
            }
        }
        // Coalesce: whatever else is already waiting goes into the same frame.
        while let Ok(update) = updates.try_recv() {
            urgent |= fold(&mut state, &mut store, update);
        }
        match effect {
            Effect::Quit => break Ok(Exit::Quit),
            Effect::Suspend => {
                if !tui.suspend()? {
                    state.notify("no job-control shell to return to: suspend is unavailable here");
                }
            }
            Effect::Repaint => tui.clear()?,
            Effect::None => {}
        }
        if let Some(info) = &store {
            if let Some(rx) = jobs_rx.take() {
                tokio::spawn(crate::alerts::history::serve(info.store.clone(), rx, tx.clone()));
                let _ = jobs_tx.try_send(crate::alerts::history::Job::LoadAcks);
            }
            send_alert_jobs(&mut state, &jobs_tx);
            if std::mem::take(&mut state.backups.reload_checks) {
                tokio::spawn(load_backup_checks(info.store.clone(), tx.clone()));
            }
        }
        if let Some(request) = state.fleet.take_history_request() {
            spawn_fleet_history(&state.config, request, tx.clone());
        }
        if std::mem::take(&mut state.backups.rescan) {
            rescan_backups.notify_waiters();
        }
        if std::mem::take(&mut state.alerts.ring) {
            tui.bell()?;
        }
        if let Some(text) = state.logs.clipboard.take() {
            tui.copy_to_clipboard(&text)?;
        }
        for request in state.pipeline.take_requests() {
            let sinks = Sinks {
                store: store.as_ref().map(|s| s.store.clone()),
                mirror: state.config.audit.mirror_file.clone(),
                events: tx.clone(),
            };
            tokio::spawn(crate::ops::executor::execute(request, sinks));
        }
        state.now = Instant::now();
        let due = draw_at.is_some_and(|t| t <= tokio::time::Instant::now());
        if urgent || due || effect != Effect::None {
            tui.draw(&state)?;
            draw_at = None;
        } else if draw_at.is_none() {
            draw_at = Some(tokio::time::Instant::now() + COALESCE);
        }
    };
    cancel.cancel();
    finish_running_actions(&mut state, &mut updates).await;
    if let Some(info) = store {
        // Best effort, bounded: a stuck disk must not hold the operator's exit.
        let end = async {
            let _ = info.store.end_session(info.session_id).await;
            info.store.close().await;
        };
        let _ = tokio::time::timeout(Duration::from_millis(500), end).await;
    }
    exit
}

/// On the way out: cancel what still runs and give the executors a moment
/// to kill their process groups and finish their audit rows, so the trail
/// says "cancelled" rather than "outcome unknown".
async fn finish_running_actions(state: &mut AppState, updates: &mut mpsc::Receiver<Update>) {
    state.pipeline.cancel_all();
    let wait = async {
        while state.pipeline.active_runs().next().is_some() {
            match updates.recv().await {
                Some(u) => {
                    state.apply_update(u);
                }
                None => return,
            }
        }
    };
    // The run's own kill grace is 2 s; the audit write after it is quick.
    let _ = tokio::time::timeout(Duration::from_secs(4), wait).await;
}

/// Ask the open fleet node's Prometheus for its chart history.
fn spawn_fleet_history(
    config: &crate::config::Config,
    request: fleet::HistoryRequest,
    tx: mpsc::Sender<Update>,
) {
    use crate::sources::fleet::{HISTORY_SOURCE, node_history};
    let Some(source) = config.prometheus.iter().find(|p| p.name == request.origin).cloned() else { return };
    let fleet = config.fleet.clone();
    tokio::spawn(async move {
        let result = node_history(&source, &fleet, &request.instance, request.window).await;
        let _ = tx.send(Update::now(HISTORY_SOURCE, result.map(Payload::FleetHistory))).await;
    });
}

/// Read the latest backup checks and hand them to the app.
async fn load_backup_checks(store: crate::store::Store, tx: mpsc::Sender<Update>) {
    match crate::backups::checks::latest(&store).await {
        Ok(records) => {
            let _ = tx
                .send(Update::now(crate::sources::backups::SOURCE, Ok(Payload::BackupChecks(records))))
                .await;
        }
        Err(e) => tracing::warn!("{e}"),
    }
}

/// Hand the alerts' pending store work to the store task. A full queue
/// keeps the work for the next round rather than blocking the screen.
fn send_alert_jobs(state: &mut AppState, jobs: &mpsc::Sender<crate::alerts::history::Job>) {
    use crate::alerts::history::Job;
    if jobs.capacity() < 3 {
        return;
    }
    let history = state.alerts.take_history();
    if !history.is_empty() {
        let _ = jobs.try_send(Job::Record(history));
    }
    let clears = std::mem::take(&mut state.alerts.acks_to_clear);
    let reload = std::mem::take(&mut state.alerts.reload_acks) || !clears.is_empty();
    if !clears.is_empty() {
        let _ = jobs.try_send(Job::ClearAcks(clears));
    }
    if reload {
        let _ = jobs.try_send(Job::LoadAcks);
    }
    if let Some(fp) = state.alerts.take_timeline_request() {
        let _ = jobs.try_send(Job::Timeline(fp));
    }
}

/// Fold an update; true when it should be drawn at once (see `apply_update`).
fn fold(state: &mut AppState, store: &mut Option<StoreInfo>, update: Update) -> bool {
    if let Ok(Payload::Store(info)) = &update.result {
        *store = Some(info.clone());
    }
    state.apply_update(update)
}

fn handle_event(state: &mut AppState, ev: &Event, width: u16) -> Effect {
    match ev {
        // Releases and repeats arrive only with the kitty protocol; act on presses.
        Event::Key(key) if key.kind == KeyEventKind::Press => state.handle_key(key),
        Event::Mouse(mouse) => state.handle_mouse(mouse, width),
        _ => Effect::None, // resize and focus: the redraw that follows is enough
    }
}

fn tick_clock(state: &mut AppState) {
    state.now = Instant::now();
    let now = jiff::Zoned::now();
    state.clock = now.strftime("%H:%M:%S").to_string();
    state.wall = now.timestamp();
}
